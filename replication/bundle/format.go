package bundle

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"fieldsync/replication"
)

// The file format. A bundle is one or more parts, each a file:
//
//	magic "FSBUNDLE" | version (1) | n (4, BE) | header (n bytes) | ed25519 signature of the header (64)
//	frames:  n (4, BE) | AES-256-GCM ciphertext and tag (n bytes)
//
//	header:  ID (16) | part (4) | direction (1) | created, unix seconds (8)
//	         | signer's device key (32) | n (2) | signer's bundle key (n, the answer goes to it)
//	         | recipients (1) | per recipient: device key (32) | n (2) | HPKE enc and sealed content key (n)
//
// The header is signed by the writer's device key over a context string,
// the magic, the version and the header. Each part has its own 32-byte
// content key, sealed to each recipient hub with HPKE (MLKEM768X25519,
// HKDF-SHA256, AES-256-GCM; info names the bundle, part and recipient):
// post-quantum, so a stick lost today stays closed against a recorded
// attack later. Frames are sealed under HKDF of the content key with the
// ID as salt; a frame's nonce is its part and index, its additional data
// the SHA-256 of the signed header: a frame moved, dropped, replayed from
// another part or bundle, or altered does not open. A part ends with an
// end frame; a file that stops before it is truncated, and every frame
// before the cut still opens.
const (
	magic   = "FSBUNDLE"
	Version = 1
	// MaxHeader bounds a header (recipients' keys and seals).
	MaxHeader = 64 << 10
	// MaxFrame bounds one sealed frame: a wire frame of the largest body
	// (a batch) with room for its framing, and the tag.
	MaxFrame = 5 << 20
	// MaxRecipients bounds the hubs one part is sealed to.
	MaxRecipients = 8
	sigContext    = "fieldsync bundle header v1\n"
	frameInfo     = "fieldsync/bundle/frames/v1"
	sealInfo      = "fieldsync bundle content key v1"
	contentKeyLen = 32
	idLen         = 16
)

// Direction says which way a bundle goes.
type Direction uint8

const (
	// Up: a laptop's entries and blobs for a hub.
	Up Direction = 1
	// Return: a hub's answer to a laptop: acknowledgements and what flows
	// down (roster, decisions, receipts, resident lists).
	Return Direction = 2
)

func (d Direction) String() string {
	switch d {
	case Up:
		return "up"
	case Return:
		return "return"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// Errors of reading a part. Each is wrapped with where and what.
var (
	// ErrNotBundle: the file does not start as a bundle part.
	ErrNotBundle = errors.New("bundle: not a fieldsync bundle")
	// ErrBadSignature: the header's signature does not verify.
	ErrBadSignature = errors.New("bundle: the header's signature does not verify")
	// ErrNotForUs: the part is sealed to other hubs.
	ErrNotForUs = errors.New("bundle: sealed to another replica")
	// ErrDamaged: a frame does not open (altered, or damaged on the stick).
	ErrDamaged = errors.New("bundle: a frame does not open")
	// ErrTruncated: the file ends before the part's end frame.
	ErrTruncated = errors.New("bundle: the part is truncated")
)

// ID names a bundle; its parts share it.
type ID [idLen]byte

func (id ID) String() string { return fmt.Sprintf("%x", id[:]) }

// Short is the first 8 hex digits.
func (id ID) Short() string { return id.String()[:8] }

// NewID draws a random bundle ID.
func NewID() (ID, error) {
	var id ID
	_, err := rand.Read(id[:])
	return id, err
}

// Header is a part's header.
type Header struct {
	ID        ID
	Part      uint32 // 1-based
	Direction Direction
	Created   int64             // unix seconds, by the writer's clock
	Signer    ed25519.PublicKey // the writer's device key
	// ReplyKey is the writer's bundle public key: the answer is sealed to it.
	ReplyKey   []byte
	Recipients []Recipient
}

// Recipient is a hub (or laptop) the part's content key is sealed to.
type Recipient struct {
	Device ed25519.PublicKey
	Sealed []byte // HPKE enc and ciphertext of the content key
}

func (h *Header) encode() ([]byte, error) {
	if len(h.Signer) != ed25519.PublicKeySize || len(h.ReplyKey) > 4096 || len(h.Recipients) == 0 || len(h.Recipients) > MaxRecipients {
		return nil, fmt.Errorf("bundle: header: bad signer, reply key or recipients (%d)", len(h.Recipients))
	}
	b := make([]byte, 0, 256)
	b = append(b, h.ID[:]...)
	b = binary.BigEndian.AppendUint32(b, h.Part)
	b = append(b, byte(h.Direction))
	b = binary.BigEndian.AppendUint64(b, uint64(h.Created))
	b = append(b, h.Signer...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.ReplyKey)))
	b = append(b, h.ReplyKey...)
	b = append(b, byte(len(h.Recipients)))
	for _, r := range h.Recipients {
		if len(r.Device) != ed25519.PublicKeySize || len(r.Sealed) > 8192 {
			return nil, fmt.Errorf("bundle: header: bad recipient")
		}
		b = append(b, r.Device...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(r.Sealed)))
		b = append(b, r.Sealed...)
	}
	return b, nil
}

// decodeHeader parses a header; every length is checked against what is
// left.
func decodeHeader(b []byte) (Header, error) {
	var h Header
	bad := func(what string) (Header, error) {
		return Header{}, fmt.Errorf("%w: header: %s", replication.ErrMalformed, what)
	}
	if len(b) < idLen+4+1+8+32+2+1 {
		return bad("too short")
	}
	copy(h.ID[:], b)
	b = b[idLen:]
	h.Part = binary.BigEndian.Uint32(b)
	h.Direction = Direction(b[4])
	h.Created = int64(binary.BigEndian.Uint64(b[5:]))
	b = b[13:]
	if h.Part == 0 || (h.Direction != Up && h.Direction != Return) {
		return bad(fmt.Sprintf("part %d, direction %d", h.Part, h.Direction))
	}
	h.Signer = ed25519.PublicKey(bytes.Clone(b[:32]))
	b = b[32:]
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if n > len(b) || n > 4096 {
		return bad("reply key longer than the header")
	}
	h.ReplyKey = bytes.Clone(b[:n])
	b = b[n:]
	if len(b) < 1 {
		return bad("no recipients")
	}
	count := int(b[0])
	b = b[1:]
	if count == 0 || count > MaxRecipients {
		return bad(fmt.Sprintf("%d recipients, want 1-%d", count, MaxRecipients))
	}
	for range count {
		if len(b) < 34 {
			return bad("recipient cut short")
		}
		r := Recipient{Device: ed25519.PublicKey(bytes.Clone(b[:32]))}
		n := int(binary.BigEndian.Uint16(b[32:]))
		b = b[34:]
		if n > len(b) {
			return bad("recipient seal longer than the header")
		}
		r.Sealed = bytes.Clone(b[:n])
		b = b[n:]
		h.Recipients = append(h.Recipients, r)
	}
	if len(b) != 0 {
		return bad(fmt.Sprintf("%d bytes after the recipients", len(b)))
	}
	return h, nil
}

func signedBytes(header []byte) []byte {
	b := make([]byte, 0, len(sigContext)+len(magic)+1+len(header))
	b = append(b, sigContext...)
	b = append(b, magic...)
	b = append(b, Version)
	return append(b, header...)
}

func sealInfoFor(h *Header, device ed25519.PublicKey) []byte {
	b := []byte(sealInfo)
	b = append(b, h.ID[:]...)
	b = binary.BigEndian.AppendUint32(b, h.Part)
	b = append(b, byte(h.Direction))
	return append(b, device...)
}

func frameAEAD(content []byte, id ID) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, content, id[:], frameInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func nonceFor(part uint32, index uint64) []byte {
	n := make([]byte, 12)
	binary.BigEndian.PutUint32(n, part)
	binary.BigEndian.PutUint64(n[4:], index)
	return n
}

// Frame kinds (the first byte of a frame's plain text).
const (
	// FrameMessage holds one sync protocol message as a wire frame.
	FrameMessage byte = 1
	// frameEnd ends a part: the number of frames before it, and whether
	// more parts follow.
	frameEnd byte = 0xFF
)

// Writer writes one part.
type Writer struct {
	w       *countingWriter
	aead    cipher.AEAD
	part    uint32
	index   uint64
	ad      []byte
	limit   int64 // bytes the part may take; 0: no limit
	closed  bool
	hdrSize int64
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// RecipientKey is a hub to seal to: its device key, and its bundle
// public key (published in its log; see KeyEntry).
type RecipientKey struct {
	Device ed25519.PublicKey
	Key    hpke.PublicKey
}

// endFrameRoom is what Close needs: the end frame, sealed, with its length.
const endFrameRoom = 4 + 1 + 4 + 1 + 16

// NewWriter writes a part's header to w and returns its writer. h names
// the bundle, part, direction, signer and reply key; the content key is
// drawn here and sealed to each recipient. limit bounds the whole part in
// bytes (0: none).
func NewWriter(w io.Writer, h Header, signer ed25519.PrivateKey, to []RecipientKey, limit int64) (*Writer, error) {
	if len(to) == 0 || len(to) > MaxRecipients {
		return nil, fmt.Errorf("bundle: %d recipients, want 1-%d", len(to), MaxRecipients)
	}
	content := make([]byte, contentKeyLen)
	if _, err := rand.Read(content); err != nil {
		return nil, err
	}
	h.Signer = signer.Public().(ed25519.PublicKey)
	h.Recipients = nil
	for _, r := range to {
		sealed, err := hpke.Seal(r.Key, hpke.HKDFSHA256(), hpke.AES256GCM(), sealInfoFor(&h, r.Device), content)
		if err != nil {
			return nil, fmt.Errorf("bundle: seal to %x: %w", r.Device[:4], err)
		}
		h.Recipients = append(h.Recipients, Recipient{Device: r.Device, Sealed: sealed})
	}
	hb, err := h.encode()
	if err != nil {
		return nil, err
	}
	sig := ed25519.Sign(signer, signedBytes(hb))
	cw := &countingWriter{w: w}
	var pre []byte
	pre = append(pre, magic...)
	pre = append(pre, Version)
	pre = binary.BigEndian.AppendUint32(pre, uint32(len(hb)))
	pre = append(pre, hb...)
	pre = append(pre, sig...)
	if limit > 0 && int64(len(pre))+endFrameRoom > limit {
		return nil, fmt.Errorf("bundle: a part of at most %d bytes cannot hold its own header (%d bytes)", limit, len(pre))
	}
	if _, err := cw.Write(pre); err != nil {
		return nil, err
	}
	aead, err := frameAEAD(content, h.ID)
	if err != nil {
		return nil, err
	}
	ad := sha256.Sum256(pre)
	return &Writer{w: cw, aead: aead, part: h.Part, ad: ad[:], limit: limit, hdrSize: int64(len(pre))}, nil
}

// ErrFull: the frame does not fit in the part's size limit.
var ErrFull = errors.New("bundle: the part is full")

// Room returns how many plain bytes one more frame may hold (-1: no limit).
func (w *Writer) Room() int64 {
	if w.limit == 0 {
		return -1
	}
	return max(w.limit-w.w.n-endFrameRoom-4-1-int64(w.aead.Overhead()), 0)
}

// Written is the bytes written so far.
func (w *Writer) Written() int64 { return w.w.n }

// Add writes one frame of the given kind. ErrFull, and nothing written,
// if it does not fit the limit.
func (w *Writer) Add(kind byte, body []byte) error {
	if w.closed {
		return errors.New("bundle: writer closed")
	}
	if len(body)+1+w.aead.Overhead() > MaxFrame {
		return fmt.Errorf("bundle: a frame of %d bytes, limit %d", len(body), MaxFrame)
	}
	if r := w.Room(); r >= 0 && int64(len(body)) > r {
		return ErrFull
	}
	return w.add(kind, body)
}

func (w *Writer) add(kind byte, body []byte) error {
	plain := make([]byte, 0, 1+len(body))
	plain = append(plain, kind)
	plain = append(plain, body...)
	out := make([]byte, 4, 4+len(plain)+w.aead.Overhead())
	out = w.aead.Seal(out, nonceFor(w.part, w.index), plain, w.ad)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	if _, err := w.w.Write(out); err != nil {
		return err
	}
	w.index++
	return nil
}

// Close writes the end frame; more says other parts follow.
func (w *Writer) Close(more bool) error {
	if w.closed {
		return nil
	}
	body := binary.BigEndian.AppendUint32(nil, uint32(w.index))
	flag := byte(0)
	if more {
		flag = 1
	}
	body = append(body, flag)
	err := w.add(frameEnd, body)
	w.closed = true
	return err
}

// Part is a part being read.
type Part struct {
	Header Header
	r      *bufio.Reader
	aead   cipher.AEAD
	ad     []byte
	index  uint64
	offset int64 // bytes read so far: where the next frame starts
	ended  bool
	More   bool // set by the end frame: other parts of the bundle follow
}

// ReadHeader reads and checks a part's header and signature (anyone can:
// it says who wrote it and for whom, and nothing else).
func ReadHeader(r io.Reader) (Header, []byte, error) {
	pre := make([]byte, len(magic)+1+4)
	if _, err := io.ReadFull(r, pre); err != nil {
		return Header{}, nil, fmt.Errorf("%w: %w", ErrNotBundle, err)
	}
	if string(pre[:len(magic)]) != magic {
		return Header{}, nil, fmt.Errorf("%w (it does not start with %q)", ErrNotBundle, magic)
	}
	if pre[len(magic)] != Version {
		return Header{}, nil, fmt.Errorf("%w: format version %d, this build reads %d", ErrNotBundle, pre[len(magic)], Version)
	}
	n := binary.BigEndian.Uint32(pre[len(magic)+1:])
	if n > MaxHeader {
		return Header{}, nil, fmt.Errorf("%w: a header of %d bytes, limit %d", replication.ErrTooLarge, n, MaxHeader)
	}
	rest := make([]byte, int(n)+ed25519.SignatureSize)
	if _, err := io.ReadFull(r, rest); err != nil {
		return Header{}, nil, fmt.Errorf("%w: the header is cut short: %w", ErrTruncated, err)
	}
	hb, sig := rest[:n], rest[n:]
	h, err := decodeHeader(hb)
	if err != nil {
		return Header{}, nil, err
	}
	if !ed25519.Verify(h.Signer, signedBytes(hb), sig) {
		return Header{}, nil, ErrBadSignature
	}
	all := append(pre, rest...)
	return h, all, nil
}

// OpenPart reads a part's header from r and opens its content key with
// this replica's device key and bundle key.
func OpenPart(r io.Reader, device ed25519.PublicKey, key hpke.PrivateKey) (*Part, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	h, pre, err := ReadHeader(br)
	if err != nil {
		return nil, err
	}
	var content []byte
	for _, rc := range h.Recipients {
		if !bytes.Equal(rc.Device, device) {
			continue
		}
		content, err = hpke.Open(key, hpke.HKDFSHA256(), hpke.AES256GCM(), sealInfoFor(&h, device), rc.Sealed)
		if err != nil || len(content) != contentKeyLen {
			return nil, fmt.Errorf("%w: the seal for this replica's key does not open (made for another key of this device?)", ErrNotForUs)
		}
		break
	}
	if content == nil {
		return nil, fmt.Errorf("%w: sealed to %s, not to this replica (%s)", ErrNotForUs, deviceList(h.Recipients), replication.DeviceIDOf(device))
	}
	aead, err := frameAEAD(content, h.ID)
	if err != nil {
		return nil, err
	}
	ad := sha256.Sum256(pre)
	return &Part{Header: h, r: br, aead: aead, ad: ad[:], offset: int64(len(pre))}, nil
}

func deviceList(rs []Recipient) string {
	var b bytes.Buffer
	for i, r := range rs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(replication.DeviceIDOf(r.Device)))
	}
	return b.String()
}

// Next returns the next frame's kind and body; io.EOF after the end
// frame. A frame that does not open is ErrDamaged, a file that ends before
// the end frame ErrTruncated; both say which frame and at which byte, and
// the frames before it stand.
func (p *Part) Next() (byte, []byte, error) {
	if p.ended {
		return 0, nil, io.EOF
	}
	var lb [4]byte
	at := p.offset
	if _, err := io.ReadFull(p.r, lb[:]); err != nil {
		return 0, nil, fmt.Errorf("%w: the file ends at byte %d, after %d frames, before the part's end (copy it again)", ErrTruncated, at, p.index)
	}
	n := binary.BigEndian.Uint32(lb[:])
	if n < uint32(1+p.aead.Overhead()) || n > MaxFrame {
		return 0, nil, fmt.Errorf("%w: frame %d at byte %d claims %d bytes (damaged)", ErrDamaged, p.index, at, n)
	}
	sealed := make([]byte, n)
	if _, err := io.ReadFull(p.r, sealed); err != nil {
		return 0, nil, fmt.Errorf("%w: the file ends inside frame %d at byte %d (copy it again)", ErrTruncated, p.index, at)
	}
	plain, err := p.aead.Open(sealed[:0], nonceFor(p.Header.Part, p.index), sealed, p.ad)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: frame %d at byte %d was altered or damaged on the way", ErrDamaged, p.index, at)
	}
	p.offset += 4 + int64(n)
	kind, body := plain[0], plain[1:]
	if kind == frameEnd {
		if len(body) != 5 || uint64(binary.BigEndian.Uint32(body)) != p.index {
			return 0, nil, fmt.Errorf("%w: the end frame counts %d frames, %d were read", ErrDamaged, binary.BigEndian.Uint32(body), p.index)
		}
		p.More = body[4] == 1
		p.ended = true
		return 0, nil, io.EOF
	}
	p.index++
	return kind, body, nil
}

// Offset is where the next frame starts in the file.
func (p *Part) Offset() int64 { return p.offset }
