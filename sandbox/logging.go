package sandbox

import (
	"flag"
	"io"
	"sync"

	"k8s.io/klog/v2"
)

var klogFlags sync.Once

// setupLogging sends klog's output, from every component, to w only.
func setupLogging(w io.Writer) {
	klogFlags.Do(func() {
		fs := flag.NewFlagSet("klog", flag.ContinueOnError)
		klog.InitFlags(fs)
		for name, value := range map[string]string{
			"logtostderr":                      "false",
			"alsologtostderr":                  "false",
			"stderrthreshold":                  "FATAL",
			"legacy_stderr_threshold_behavior": "false",
			"one_output":                       "true",
		} {
			_ = fs.Set(name, value) // a flag unknown to this klog version is fine to miss
		}
	})
	klog.SetOutput(w)
}
