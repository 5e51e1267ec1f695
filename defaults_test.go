package wsgate_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"

	"github.com/wsgate/wsgate/internal/cache"
	"github.com/wsgate/wsgate/internal/engine"
)

// TestConfigDocsSayTheDefaults checks that the doc comments of the Config
// fields whose defaults other layers own state those defaults: a zero
// field means what engine.Options and cache.Config make of it.
func TestConfigDocsSayTheDefaults(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Config" {
			return true
		}
		for _, field := range ts.Type.(*ast.StructType).Fields.List {
			for _, name := range field.Names {
				docs[name.Name] = strings.Join(strings.Fields(field.Doc.Text()), " ")
			}
		}
		return false
	})
	for _, tt := range []struct {
		field string
		bytes int64
	}{
		{"MaxMessageSize", engine.DefaultMaxMessageSize},
		{"MaxQueuedBytes", engine.DefaultMaxQueuedBytes},
		{"CacheSize", cache.DefaultMaxBytes},
	} {
		want := "Zero means " + sizeText(tt.bytes)
		if !strings.Contains(docs[tt.field], want) {
			t.Errorf("Config.%s's doc %q does not say %q", tt.field, docs[tt.field], want)
		}
	}
}

// sizeText writes n bytes the way the docs do: 1 MiB, 64 KiB, 100 bytes.
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
