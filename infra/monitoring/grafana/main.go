// Command grafana writes the suite's Grafana dashboards (Infrastructure
// Overview, Application Deep Dive, Delivery Performance) as Grafana
// dashboard JSON with CloudWatch data-source queries, rendered from the
// same widget definitions as the CloudWatch dashboards
// (infra/monitoring/widgets). `make dashboards` runs it; the files are
// committed beside it and a test fails when they are stale.
//
//	go run ./infra/monitoring/grafana -out infra/monitoring/grafana [-namespace Postdeploy]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/postdeploy/postdeploy/infra/monitoring/widgets"
	"github.com/postdeploy/postdeploy/pkg/config"
)

func main() {
	out := flag.String("out", "infra/monitoring/grafana", "directory to write the dashboards to")
	ns := flag.String("namespace", config.DefaultMetricNamespace, "CloudWatch namespace of the suite's metrics")
	flag.Parse()
	files, err := Render(*ns)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grafana:", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(*out, n)
		if err := os.WriteFile(p, files[n], 0o644); err != nil { //nolint:gosec // dashboards are public JSON, not secrets
			fmt.Fprintln(os.Stderr, "grafana:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", p)
	}
}

// Render returns each dashboard's file name and JSON (indented, with a
// final newline).
func Render(namespace string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for name, d := range widgets.GrafanaDashboards(namespace) {
		g, err := d.Grafana()
		if err != nil {
			return nil, err
		}
		b, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", name, err)
		}
		out[name] = append(b, '\n')
	}
	return out, nil
}
