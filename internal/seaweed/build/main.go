// Command build builds the SeaweedFS server the object-store tests run
// against (once; cached) and prints the binary's path:
//
//	go run ./internal/seaweed/build
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"fieldsync/internal/seaweed"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bin, err := seaweed.Build(ctx, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(bin)
}
