package client

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// savedState is what Options.StateFile holds.
type savedState struct {
	Node string `json:"node"` // base URL of the last node connected to
}

// loadNode returns the node saved in path, or "" when there is none or
// the file cannot be read.
func loadNode(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var s savedState
	if json.Unmarshal(b, &s) != nil {
		return ""
	}
	return s.Node
}

// saveNode writes node to path through a temporary file and a rename, so
// a reader never sees half a file.
func saveNode(path, node string) error {
	b, err := json.Marshal(savedState{Node: node})
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
