package linkemu

// DirStats counts what crossed one direction of a link.
type DirStats struct {
	// PayloadBytes is stream payload sent for the first time.
	PayloadBytes int64
	// DeliveredBytes is stream payload handed to the receiving end. It is
	// less than PayloadBytes when a cut or reset lost data in flight.
	DeliveredBytes int64
	// WireBytes is every byte this direction carried: stream payload and
	// headers, retransmissions, control packets (the ACKs for the other
	// direction's data, SYN, FIN) and datagrams with their headers,
	// including datagrams lost on the way.
	WireBytes int64
	// Segments is stream data segments sent for the first time.
	Segments int64
	// Retransmits is stream data segments sent again after a loss.
	Retransmits int64
	// RetransmitBytes is the payload of Retransmits (headers excluded).
	RetransmitBytes int64
	// ControlPackets is pure ACKs (delayed, and duplicate ACKs after a
	// loss), SYN, SYN-ACK and FIN packets; ControlBytes their wire bytes.
	ControlPackets, ControlBytes int64
	// Packets is datagrams offered by Link.Packet.
	Packets int64
	// PacketPayloadBytes is the payload of datagrams put on the wire.
	PacketPayloadBytes int64
	// PacketsDropped is datagrams not delivered, for any of the reasons
	// counted next.
	PacketsDropped int64
	// PacketsLost were lost in transit (Profile.Loss); they cost wire bytes.
	PacketsLost int64
	// PacketsCut were offered while the link was down; no wire bytes.
	PacketsCut int64
	// PacketsOverflow were tail-dropped because 64 KiB were already queued
	// in this direction, or were larger than a UDP datagram can be; no wire
	// bytes.
	PacketsOverflow int64
}

// Stats is a snapshot of a link's counters.
type Stats struct {
	// Up and Down count each direction.
	Up, Down DirStats
	// Conns is stream connections opened through the link.
	Conns int64
	// ConnsBroken is connections broken because the link went down.
	ConnsBroken int64
	// DialsRefused is connections refused because the link was down.
	DialsRefused int64
}

// Dir returns the counters of direction d.
func (s Stats) Dir(d Direction) DirStats {
	if d == Up {
		return s.Up
	}
	return s.Down
}

// WireBytes is the bytes on the wire in both directions.
func (s Stats) WireBytes() int64 { return s.Up.WireBytes + s.Down.WireBytes }

func (s *Stats) dir(d Direction) *DirStats {
	d.check()
	if d == Up {
		return &s.Up
	}
	return &s.Down
}
