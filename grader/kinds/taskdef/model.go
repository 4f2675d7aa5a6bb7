package taskdef

// TaskDefinition is the part of ECS's RegisterTaskDefinition input the
// grader reads. Pointers tell an absent field from a zero one, since ECS
// applies defaults to absent fields.
type TaskDefinition struct {
	Family                  string                `json:"family"`
	TaskRoleArn             string                `json:"taskRoleArn"`
	ExecutionRoleArn        string                `json:"executionRoleArn"`
	NetworkMode             string                `json:"networkMode"`
	ContainerDefinitions    []ContainerDefinition `json:"containerDefinitions"`
	RequiresCompatibilities []string              `json:"requiresCompatibilities"`
	Cpu                     *string               `json:"cpu"`
	Memory                  *string               `json:"memory"`
	PidMode                 string                `json:"pidMode"`
	IpcMode                 string                `json:"ipcMode"`
	Volumes                 []Volume              `json:"volumes"`
	EphemeralStorage        *struct {
		SizeInGiB *int64 `json:"sizeInGiB"`
	} `json:"ephemeralStorage"`
}

// Volume is a data volume of the task. Its configurations are kept only to
// tell which ones it gives (any value the API would take is accepted).
type Volume struct {
	Name               string    `json:"name"`
	ConfiguredAtLaunch *bool     `json:"configuredAtLaunch"`
	Host               *struct{} `json:"host"`
	Docker             any       `json:"dockerVolumeConfiguration"`
	EFS                any       `json:"efsVolumeConfiguration"`
	S3Files            any       `json:"s3filesVolumeConfiguration"`
	FSx                any       `json:"fsxWindowsFileServerVolumeConfiguration"`
}

// MountPoint mounts a task volume into a container.
type MountPoint struct {
	SourceVolume  string `json:"sourceVolume"`
	ContainerPath string `json:"containerPath"`
}

// VolumeFrom mounts another container's volumes.
type VolumeFrom struct {
	SourceContainer string `json:"sourceContainer"`
}

// ContainerDefinition is one container of the task.
type ContainerDefinition struct {
	Name              string            `json:"name"`
	Image             string            `json:"image"`
	Cpu               *int64            `json:"cpu"`
	Memory            *int64            `json:"memory"`
	MemoryReservation *int64            `json:"memoryReservation"`
	PortMappings      []PortMapping     `json:"portMappings"`
	Essential         *bool             `json:"essential"`
	EntryPoint        []string          `json:"entryPoint"`
	Command           []string          `json:"command"`
	Environment       []KeyValuePair    `json:"environment"`
	Secrets           []Secret          `json:"secrets"`
	DependsOn         []ContainerDep    `json:"dependsOn"`
	MountPoints       []MountPoint      `json:"mountPoints"`
	VolumesFrom       []VolumeFrom      `json:"volumesFrom"`
	StartTimeout      *int64            `json:"startTimeout"`
	StopTimeout       *int64            `json:"stopTimeout"`
	Privileged        *bool             `json:"privileged"`
	LinuxParameters   *LinuxParameters  `json:"linuxParameters"`
	LogConfiguration  *LogConfiguration `json:"logConfiguration"`
	HealthCheck       *HealthCheck      `json:"healthCheck"`
}

// IsEssential applies ECS's default: a container is essential unless it
// says otherwise.
func (c ContainerDefinition) IsEssential() bool { return c.Essential == nil || *c.Essential }

// PortMapping maps a container port; under awsvpc the host port is the
// container port.
type PortMapping struct {
	ContainerPort *int64 `json:"containerPort"`
	HostPort      *int64 `json:"hostPort"`
	Protocol      string `json:"protocol"`
	Name          string `json:"name"`
	AppProtocol   string `json:"appProtocol"`
}

// KeyValuePair is a plain environment variable.
type KeyValuePair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Secret is an environment variable whose value the agent fetches.
type Secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// ContainerDep is a dependsOn entry.
type ContainerDep struct {
	ContainerName string `json:"containerName"`
	Condition     string `json:"condition"`
}

// LinuxParameters holds the Linux-specific settings, some of which Fargate
// refuses.
type LinuxParameters struct {
	Devices          []any  `json:"devices"`
	SharedMemorySize *int64 `json:"sharedMemorySize"`
	MaxSwap          *int64 `json:"maxSwap"`
	Swappiness       *int64 `json:"swappiness"`
}

// LogConfiguration selects a log driver.
type LogConfiguration struct {
	LogDriver string            `json:"logDriver"`
	Options   map[string]string `json:"options"`
}

// HealthCheck is ECS's container health check (Docker's HEALTHCHECK).
type HealthCheck struct {
	Command     []string `json:"command"`
	Interval    *int64   `json:"interval"`
	Timeout     *int64   `json:"timeout"`
	Retries     *int64   `json:"retries"`
	StartPeriod *int64   `json:"startPeriod"`
}

// Defaults ECS applies to absent health-check and stop settings (seconds).
const (
	DefaultInterval    = 30
	DefaultTimeout     = 5
	DefaultRetries     = 3
	DefaultStartPeriod = 0
	DefaultStopTimeout = 30
)

// Effective returns the health check's settings with ECS's defaults applied.
func (h HealthCheck) Effective() (interval, timeout, retries, startPeriod int64) {
	interval, timeout, retries, startPeriod = DefaultInterval, DefaultTimeout, DefaultRetries, DefaultStartPeriod
	if h.Interval != nil {
		interval = *h.Interval
	}
	if h.Timeout != nil {
		timeout = *h.Timeout
	}
	if h.Retries != nil {
		retries = *h.Retries
	}
	if h.StartPeriod != nil {
		startPeriod = *h.StartPeriod
	}
	return
}

// EffectiveStopTimeout applies Fargate's default stop timeout.
func (c ContainerDefinition) EffectiveStopTimeout() int64 {
	if c.StopTimeout != nil {
		return *c.StopTimeout
	}
	return DefaultStopTimeout
}
