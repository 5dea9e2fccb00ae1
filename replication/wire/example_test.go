package wire_test

import (
	"bytes"
	"fmt"
	"io"

	"fieldsync/replication"
	"fieldsync/replication/wire"
)

func ExampleCodec() {
	codec, err := wire.NewCodec(wire.DefaultLimits())
	if err != nil {
		panic(err)
	}
	var link bytes.Buffer // a connection, in real life
	var origin replication.OriginID
	origin[0] = 0x42
	codec.WriteFrame(&link, &wire.Hello{Version: 1, Role: "node", Unit: "01001", Node: "laptop-3"})
	codec.WriteFrame(&link, &wire.Summary{Heads: []replication.OriginHead{{Origin: origin, Head: replication.Head{Seq: 17}}}})
	for {
		m, n, err := codec.ReadFrame(&link)
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		switch m := m.(type) {
		case *wire.Hello:
			fmt.Printf("%s from %s: %d bytes\n", m.Type(), m.Node, n)
		case *wire.Summary:
			fmt.Printf("%s of %d origins: %d bytes\n", m.Type(), len(m.Heads), n)
		}
	}
	// Output:
	// hello from laptop-3: 54 bytes
	// summary of 1 origins: 38 bytes
}
