# Coldstart server image. No registry is reachable, so nothing is pulled:
# scripts/build-image.sh builds two static binaries on the host (the server,
# with cgo for SQLite, and the lab programs) into dist/image/, and this
# Dockerfile only copies them into an empty image.
FROM scratch

COPY dist/image/rootfs/ /
# COPY makes everything root's; the data directory belongs to the user.
COPY --chown=65534:65534 dist/image/data/ /data/

# The grader builds lab images from this prebuilt binary instead of
# compiling Go inside the image.
ENV COLDSTART_LAB_BINARY=/usr/local/lib/coldstart/lab \
    COLDSTART_ADDR=:8080 \
    COLDSTART_DB=/data/coldstart.db \
    HOME=/data \
    TMPDIR=/data/tmp

# Unprivileged user (nobody). To grade, the server needs the Docker socket;
# run the container with --group-add <gid of /var/run/docker.sock>.
USER 65534:65534
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# No shell in the image: the exec form runs the binary, which checks
# /healthz on loopback at the port COLDSTART_ADDR names.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["/usr/local/bin/coldstart", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/coldstart"]
CMD ["serve"]
