package ledger

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"

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
	// results, AppHash to the state after the block.
	TxsHash     Hash `cbor:"5,keyasint" json:"txs_hash"`
	ResultsHash Hash `cbor:"6,keyasint" json:"results_hash"`
	AppHash     Hash `cbor:"7,keyasint" json:"app_hash"`
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

// Record is a committed block as stored: header, transactions, results.
type Record struct {
	Header  Header   `cbor:"1,keyasint"`
	Txs     [][]byte `cbor:"2,keyasint"`
	Results []Result `cbor:"3,keyasint"`
}

// Encode returns the record's canonical encoding.
func (r *Record) Encode() ([]byte, error) { return tx.Marshal(r) }

// DecodeRecord decodes a stored block record.
func DecodeRecord(b []byte) (*Record, error) {
	var r Record
	if err := tx.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if len(r.Txs) != len(r.Results) {
		return nil, fmt.Errorf("%w: block %d has %d transactions and %d results", tx.ErrMalformed, r.Header.Height, len(r.Txs), len(r.Results))
	}
	return &r, nil
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

// nextAppHash chains the state commitment: SHA-256("agora/state/v1" 0x00
// || prev || each write as len-prefixed key and value, a deletion with
// length 0xffffffff). Replaying the same blocks from the same genesis
// reproduces every AppHash.
func nextAppHash(prev []byte, writes []Write) []byte {
	h := sha256.New()
	h.Write([]byte("agora/state/v1\x00"))
	h.Write(prev)
	var n [4]byte
	for _, w := range writes {
		binary.BigEndian.PutUint32(n[:], uint32(len(w.Key)))
		h.Write(n[:])
		h.Write(w.Key)
		if w.Value == nil {
			binary.BigEndian.PutUint32(n[:], 0xffffffff)
			h.Write(n[:])
			continue
		}
		binary.BigEndian.PutUint32(n[:], uint32(len(w.Value)))
		h.Write(n[:])
		h.Write(w.Value)
	}
	return h.Sum(nil)
}
