package spec

import _ "embed" // JSONSchema

// JSONSchema is the spec's JSON Schema, for editors (the
// yaml-language-server's "# yaml-language-server: $schema=…" line) and
// `postdeploy schema`. It is generated from the Go types of this package
// by TestSchemaIsGenerated — `go generate ./pkg/spec` (or `make schema`)
// rewrites it — and that test fails while the committed file differs.
// It is draft-07, the newest draft the YAML language server supports
// ("Supports JSON Schema 7 and below",
// https://www.npmjs.com/package/yaml-language-server). What the schema
// cannot say (cross-field rules, duration sizes) only Parse checks:
// schema_test.go lists it.
//
//go:generate go test -run ^TestSchemaIsGenerated$ -update-schema .
//go:embed postdeploy.schema.json
var JSONSchema []byte

// SchemaID is the schema's $id: where the repository publishes it.
const SchemaID = "https://raw.githubusercontent.com/postdeploy/postdeploy/main/pkg/spec/postdeploy.schema.json"
