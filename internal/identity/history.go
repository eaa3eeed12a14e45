package identity

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// HistoryEntry is an event as the history query serves it.
type HistoryEntry struct {
	Version uint64       `json:"version"`
	Type    string       `json:"type"`
	Body    any          `json:"body"`
	Signer  tx.PublicKey `json:"signer"`
	// Signers are all the signers of a multi-signer transaction.
	Signers []tx.PublicKey `json:"signers,omitempty"`
	TxHash  tx.ID          `json:"tx_hash"`
	Height  uint64         `json:"height"`
	Time    time.Time      `json:"time"`
}

// HistoryPage is a page of a DID's history: the events from version
// From on, at most HistoryPageSize of them.
type HistoryPage struct {
	DID string `json:"did"`
	// Total is the number of events of the DID: its version.
	Total  uint64         `json:"total"`
	Events []HistoryEntry `json:"events"`
	// Next is the version the next page starts at; absent on the last
	// page.
	Next uint64 `json:"next,omitempty"`
}

// HistoryPageSize bounds the events of a page (and is the default): a
// page, with its proof, is a bounded answer however long the history.
const HistoryPageSize = 100

// PageArgs parses the history query's from and limit parameters, both
// optional (from 1, limit HistoryPageSize). Errors wrap ledger.ErrInvalid.
func PageArgs(from, limit string) (uint64, uint64, error) {
	f, l := uint64(1), uint64(HistoryPageSize)
	var err error
	if from != "" {
		if f, err = strconv.ParseUint(from, 10, 64); err != nil || f == 0 {
			return 0, 0, fmt.Errorf("%w: from=%q: want a version, 1 or more", ledger.ErrInvalid, from)
		}
	}
	if limit != "" {
		if l, err = strconv.ParseUint(limit, 10, 64); err != nil || l == 0 || l > HistoryPageSize {
			return 0, 0, fmt.Errorf("%w: limit=%q: want 1 to %d events", ledger.ErrInvalid, limit, HistoryPageSize)
		}
	}
	return f, l, nil
}

// History returns the page of did's history that starts at version from
// (1 or more) and has at most limit (1 to HistoryPageSize) events. It
// reads the state (whose Version is the number of events) and then each
// event of the page by its number, with point reads only, so a state
// proof of the reads shows the page complete: no event of it can be left
// out or added, and Total and Next are proven with it. A page that
// starts after the last event is empty.
func History(kv *ledger.KV, did string, from, limit uint64) (*HistoryPage, error) {
	if from == 0 || limit == 0 || limit > HistoryPageSize {
		return nil, fmt.Errorf("%w: history page from %d, limit %d", ledger.ErrInvalid, from, limit)
	}
	s, err := load(kv, did)
	if err != nil {
		return nil, err
	}
	page := &HistoryPage{DID: s.DID(), Total: s.Version, Events: []HistoryEntry{}}
	last := min(s.Version, from+limit-1)
	for v := from; v <= last; v++ {
		var ev Event
		found, err := kv.GetValue(eventKey(s.ID, v), &ev)
		if err != nil {
			return nil, err
		}
		if !found || ev.Version != v {
			return nil, fmt.Errorf("%w: %s lacks event %d", ledger.ErrStorage, did, v)
		}
		msg, err := decodeEvent(&ev)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ledger.ErrStorage, err)
		}
		page.Events = append(page.Events, HistoryEntry{Version: ev.Version, Type: ev.Type, Body: msg, Signer: ev.Signer, Signers: ev.Signers,
			TxHash: ev.TxID, Height: ev.Height, Time: time.UnixMilli(ev.Time).UTC()})
	}
	if last < s.Version {
		page.Next = last + 1
	}
	return page, nil
}

// ProvenHistory answers the history query from proven values alone. A
// verifier compares it with the node's answer: since the proof covers
// the event count and every event of the page, an answer that omits,
// adds or alters an event differs.
func ProvenHistory(vals map[string][]byte, did string, from, limit uint64) (*HistoryPage, error) {
	return History(ledger.NewReadView(ledger.Proven(vals), Name, nil), did, from, limit)
}

// VerifyHistory checks a node's answer to the history query for the page
// from, limit (the JSON page it serves) against proven values, from
// verify.State: it is nil only if the answer is exactly the page the
// proof shows, with the same count and next page and no event omitted,
// added, reordered or altered. Errors wrap ledger.ErrInvalid.
func VerifyHistory(vals map[string][]byte, did string, from, limit uint64, answer json.RawMessage) error {
	mine, err := ProvenHistory(vals, did, from, limit)
	if err != nil {
		return err
	}
	var page struct {
		DID    string            `json:"did"`
		Total  uint64            `json:"total"`
		Events []json.RawMessage `json:"events"`
		Next   uint64            `json:"next"`
	}
	if err := json.Unmarshal(answer, &page); err != nil {
		return fmt.Errorf("%w: the answer is not a history page: %v", ledger.ErrInvalid, err)
	}
	switch {
	case page.DID != mine.DID:
		return fmt.Errorf("%w: the answer is the history of %q, not %s", ledger.ErrInvalid, page.DID, mine.DID)
	case page.Total != mine.Total:
		return fmt.Errorf("%w: the answer counts %d events, the proven history %d", ledger.ErrInvalid, page.Total, mine.Total)
	case page.Next != mine.Next:
		return fmt.Errorf("%w: the answer's next page starts at %d, the proven one at %d", ledger.ErrInvalid, page.Next, mine.Next)
	case len(page.Events) != len(mine.Events):
		return fmt.Errorf("%w: the answer has %d events, the proven page %d", ledger.ErrInvalid, len(page.Events), len(mine.Events))
	}
	for i := range mine.Events {
		b, err := json.Marshal(&mine.Events[i])
		if err != nil {
			return err
		}
		if a, b := normalJSON(page.Events[i]), normalJSON(b); a == "" || a != b {
			return fmt.Errorf("%w: event %d of the answer differs from the proven one", ledger.ErrInvalid, mine.Events[i].Version)
		}
	}
	return nil
}

// normalJSON re-encodes b so that equal values are equal strings; "" if b
// is not JSON.
func normalJSON(b []byte) string {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	out, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(out)
}
