package main

import (
	"os"
	"path/filepath"

	"fieldsync/node"
)

// dossierInput is what enroll and import read: a CSV or JSON-lines file
// (or standard input) whose rows may name files, or a folder of person
// folders, or one person's folder (docs/import-format.md).
type dossierInput struct {
	dr     node.DossierReader
	folder func(int) string // a row's folder, for folder input
	close  func()
}

// openDossierInput opens arg ("-" or "" for standard input). Relative file
// paths in rows are read from filesBase, else from the input file's folder
// (the working folder for standard input).
func openDossierInput(e *env, arg, format, filesBase string) (*dossierInput, error) {
	if arg != "" && arg != "-" {
		if fi, err := os.Stat(arg); err == nil && fi.IsDir() {
			dd, err := node.OpenDossierDir(arg)
			if err != nil {
				return nil, err
			}
			return &dossierInput{dr: dd, folder: dd.Folder, close: func() {}}, nil
		}
	}
	base := filesBase
	in, closeIn := e.stdin, func() {}
	if arg != "" && arg != "-" {
		f, err := os.Open(arg)
		if err != nil {
			return nil, err
		}
		in, closeIn = f, func() { f.Close() }
		if base == "" {
			base = filepath.Dir(arg)
		}
	}
	if base == "" {
		base = "."
	}
	dr, err := node.OpenDossiers(in, format, &node.FileSource{Base: base})
	if err != nil {
		closeIn()
		return nil, err
	}
	return &dossierInput{dr: dr, close: closeIn}, nil
}
