// Tools for `make vuln`, kept in their own module so their dependencies
// never enter the main go.mod. Directories starting with "." are skipped
// by ./..., so nothing here is built or tested with the project.
module github.com/postdeploy/postdeploy/tools

go 1.26.0

tool golang.org/x/vuln/cmd/govulncheck

// golang.org/x/vuln v1.9.0 asks for a golang.org/x/telemetry pseudo-version
// the module proxy here refuses; this one resolves and builds.
replace golang.org/x/telemetry => golang.org/x/telemetry v0.0.0-20260811182544-a038080d80e5

require (
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/telemetry v0.0.0-20261010193011-f71dc92da45e // indirect
	golang.org/x/tools v0.52.0 // indirect
	golang.org/x/vuln v1.9.0 // indirect
)
