package asset

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/agora-ledger/agora/internal/ledger"
	"github.com/agora-ledger/agora/internal/tx"
)

// Genesis is the module's genesis section: its state records as the
// state map holds them, each value canonical CBOR in hex, so that an
// export loads back to the same state byte for byte. A fresh ledger has
// none (no section).
type Genesis struct {
	Records []GenesisRecord `json:"records,omitempty"`
}

// GenesisRecord is one state record, its key within the namespace.
type GenesisRecord struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// recordType returns a zero value of the type stored under key, or nil
// for a key the module does not write.
func recordType(key string) any {
	switch {
	case key == string(seqKey):
		return new(uint64)
	case strings.HasPrefix(key, "a/"):
		return &Asset{}
	case strings.HasPrefix(key, "h/"):
		return &Event{}
	case strings.HasPrefix(key, "r/"):
		return &Rule{}
	case strings.HasPrefix(key, "p/"):
		return &Pending{}
	case strings.HasPrefix(key, "t/"):
		return &Trigger{}
	}
	return nil
}

// InitGenesis implements ledger.Module: each record must be a key the
// module writes, holding the canonical CBOR of its type.
func (Module) InitGenesis(kv *ledger.KV, raw json.RawMessage) error {
	if raw == nil {
		return nil
	}
	var g Genesis
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return fmt.Errorf("%w: asset genesis: %v", ledger.ErrInvalid, err)
	}
	for _, r := range g.Records {
		v := recordType(r.Key)
		b, err := hex.DecodeString(r.Value)
		if v == nil || err != nil {
			return fmt.Errorf("%w: asset genesis: record %q", ledger.ErrInvalid, r.Key)
		}
		if err := tx.Unmarshal(b, v); err != nil {
			return fmt.Errorf("%w: asset genesis: record %q: %v", ledger.ErrInvalid, r.Key, err)
		}
		kv.Set([]byte(r.Key), b)
	}
	return nil
}

// ExportGenesis implements ledger.Module.
func (Module) ExportGenesis(kv *ledger.KV) (json.RawMessage, error) {
	var g Genesis
	err := kv.Iterate(nil, func(k, v []byte) (bool, error) {
		g.Records = append(g.Records, GenesisRecord{Key: string(k), Value: hex.EncodeToString(v)})
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(&g)
}
