package ledger

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/agora-ledger/agora/internal/smt"
	"github.com/agora-ledger/agora/internal/tlog"
	"github.com/agora-ledger/agora/internal/tx"
)

// Header commits to a block and to the state after it. Its canonical
// encoding's SHA-256 is the block hash; each header names its parent's, so
// the headers form a hash chain from genesis.
type Header struct {
	ChainID  string `cbor:"1,keyasint" json:"chain_id"`
	Height   uint64 `cbor:"2,keyasint" json:"height"`
	Time     int64  `cbor:"3,keyasint" json:"time_ms"` // Unix milliseconds
	PrevHash Hash   `cbor:"4,keyasint" json:"prev_hash"`
	// TxsHash commits to the transactions in order, ResultsHash to their
	// results.
	TxsHash     Hash `cbor:"5,keyasint" json:"txs_hash"`
	ResultsHash Hash `cbor:"6,keyasint" json:"results_hash"`
	// AppHash is the root of the state map (docs/spec/state-map.md)
	// after the block.
	AppHash Hash `cbor:"7,keyasint" json:"app_hash"`
	// LogSize and LogRoot are the size and RFC 6962 root of the log of
	// committed transactions (docs/spec/log.md) after the block.
	LogSize uint64 `cbor:"8,keyasint" json:"log_size"`
	LogRoot Hash   `cbor:"9,keyasint" json:"log_root"`
}

// Hash is a digest: a CBOR byte string on the wire, lower-case hex in JSON.
type Hash []byte

// MarshalJSON implements json.Marshaler.
func (h Hash) MarshalJSON() ([]byte, error) { return json.Marshal(hex.EncodeToString(h)) }

// UnmarshalJSON implements json.Unmarshaler.
func (h *Hash) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := hex.DecodeString(s)
	*h = v
	return err
}

// Hash returns the block hash.
func (h *Header) Hash() [32]byte {
	b, err := tx.Marshal(h)
	if err != nil {
		panic(err) // a Header always encodes
	}
	return sha256.Sum256(b)
}

// Result is the recorded outcome of one transaction in a block.
type Result struct {
	// Code is "ok" or one of the stable error codes of Code.
	Code   string  `cbor:"1,keyasint" json:"code"`
	Error  string  `cbor:"2,keyasint,omitempty" json:"error,omitempty"`
	Events []Event `cbor:"3,keyasint,omitempty" json:"events,omitempty"`
}

// OK reports whether the transaction succeeded.
func (r *Result) OK() bool { return r.Code == "ok" }

// Record is a committed block: header, transactions, results.
type Record struct {
	Header  Header
	Txs     [][]byte
	Results []Result
}

// TxsHash commits to a list of transactions:
// SHA-256("agora/txs/v1" 0x00 || count || SHA-256(tx)...).
func TxsHash(txs [][]byte) []byte {
	h := sha256.New()
	h.Write([]byte("agora/txs/v1\x00"))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(txs))))
	for _, t := range txs {
		s := sha256.Sum256(t)
		h.Write(s[:])
	}
	return h.Sum(nil)
}

// ResultsHash commits to a list of results.
func ResultsHash(rs []Result) []byte {
	b, err := tx.Marshal(rs)
	if err != nil {
		panic(err)
	}
	s := sha256.Sum256(append([]byte("agora/results/v1\x00"), b...))
	return s[:]
}

// LogEntry is a committed transaction as the log holds it: where it was
// committed, its ID, and hashes that bind the exact envelope and result.
// Its canonical encoding is the log entry; its RFC 6962 leaf hash is the
// leaf. The envelope and result themselves are served by the API and
// checked against these hashes.
type LogEntry struct {
	Height       uint64 `cbor:"1,keyasint" json:"height"`
	Index        uint32 `cbor:"2,keyasint" json:"index"`
	TxID         tx.ID  `cbor:"3,keyasint" json:"tx_hash"`
	EnvelopeHash Hash   `cbor:"4,keyasint" json:"envelope_sha256"`
	ResultHash   Hash   `cbor:"5,keyasint" json:"result_sha256"`
}

// Encode returns the entry's canonical encoding.
func (e *LogEntry) Encode() []byte {
	b, err := tx.Marshal(e)
	if err != nil {
		panic(err) // a LogEntry always encodes
	}
	return b
}

// DecodeLogEntry decodes a log entry strictly.
func DecodeLogEntry(b []byte) (*LogEntry, error) {
	var e LogEntry
	if err := tx.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	if len(e.EnvelopeHash) != 32 || len(e.ResultHash) != 32 {
		return nil, fmt.Errorf("%w: log entry hashes must be 32 bytes", tx.ErrMalformed)
	}
	return &e, nil
}

// NewLogEntry returns the log entry of the transaction raw, committed at
// index i of block height with result res.
func NewLogEntry(height uint64, i int, id tx.ID, raw []byte, res *Result) *LogEntry {
	env := sha256.Sum256(raw)
	rb, err := tx.Marshal(res)
	if err != nil {
		panic(err)
	}
	rh := sha256.Sum256(rb)
	return &LogEntry{Height: height, Index: uint32(i), TxID: id, EnvelopeHash: env[:], ResultHash: rh[:]}
}

// commitState applies a block's writes to the state map and returns its
// new root and the map's node writes.
func commitState(r smt.NodeReader, writes []Write) ([]byte, []smt.NodeWrite, error) {
	ups := make([]smt.Update, len(writes))
	for i, w := range writes {
		ups[i].KeyHash = smt.KeyHash(w.Key)
		if w.Value != nil {
			vh := smt.ValueHash(w.Value)
			ups[i].ValueHash = &vh
		}
	}
	sort.Slice(ups, func(i, j int) bool { return bytes.Compare(ups[i].KeyHash[:], ups[j].KeyHash[:]) < 0 })
	root, nodes, err := smt.Apply(r, ups)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: state map: %v", ErrStorage, err)
	}
	return root[:], nodes, nil
}

// commitLog appends a block's entries to the log of size size and returns
// its new root and the log's node writes.
func commitLog(r tlog.HashReader, size uint64, entries [][]byte) ([]byte, []tlog.NodeHash, error) {
	leaves := make([][]byte, len(entries))
	for i, e := range entries {
		leaves[i] = tlog.LeafHash(e)
	}
	root, nodes, err := tlog.Append(r, size, leaves)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: log: %v", ErrStorage, err)
	}
	return root, nodes, nil
}
