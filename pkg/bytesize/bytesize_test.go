package bytesize

import "testing"

func TestParseExactHuman(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{{"8MiB", 8 << 20}, {"512KiB", 512 << 10}, {"2M", 2 << 20}, {"1048576", 1 << 20}, {"3 GiB", 3 << 30}, {"10kb", 10000}, {"0", 0}} {
		got, err := Parse(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
		if back, err := Parse(Exact(got)); err != nil || back != got {
			t.Errorf("Parse(Exact(%d)) = %d, %v", got, back, err)
		}
	}
	for _, bad := range []string{"", "MiB", "-1", "1.5MiB", "2TiB", "lots"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if Human(27<<10) != "27.0 KiB" || Human(512) != "512 B" || Human(3<<20+1<<19) != "3.5 MiB" {
		t.Errorf("Human: %s %s %s", Human(27<<10), Human(512), Human(3<<20+1<<19))
	}
}
