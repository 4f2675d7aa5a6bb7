package subnet

import (
	"net/netip"
	"testing"
)

func TestStandInAddressesAreShownInTheStudentsBlock(t *testing.T) {
	n := &subnetNet{shown: netip.MustParsePrefix("10.42.164.32/27"), actual: netip.MustParsePrefix("10.255.0.96/27")}
	tests := []struct{ engine, shown string }{
		{"10.255.0.100", "10.42.164.36"},
		{"10.255.0.126", "10.42.164.62"},
	}
	for _, tt := range tests {
		got, err := n.show(tt.engine)
		if err != nil || got != tt.shown {
			t.Errorf("show(%s) = %q, %v; want %s", tt.engine, got, err, tt.shown)
		}
	}
	if _, err := n.show("10.255.0.130"); err == nil {
		t.Error("an address outside the engine's block was translated")
	}
	same := &subnetNet{shown: n.shown, actual: n.shown}
	if got, _ := same.show("10.42.164.40"); got != "10.42.164.40" {
		t.Errorf("got %s", got)
	}
}

func TestAWSLayoutReservesTheFirstFourAddresses(t *testing.T) {
	spec := awsLayout(netip.MustParsePrefix("10.42.164.32/27"))
	if spec.Gateway != "10.42.164.33" || spec.Aux["aws-dns"] != "10.42.164.34" || spec.Aux["aws-reserved"] != "10.42.164.35" || spec.Subnet != "10.42.164.32/27" {
		t.Errorf("%+v", spec)
	}
}
