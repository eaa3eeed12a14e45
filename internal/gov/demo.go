package gov

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/agora-ledger/agora/internal/tx"
)

// DemoKeys are the names of the keys the demo Community needs, in the
// order Demo uses them.
var DemoKeys = []string{
	"exchange-tokyo", "exchange-seoul", "custodian-zurich", "custodian-ny", "telco-id", "university-id",
	"alice", "bob", "regulator", "ministry",
	"role-operator", "secretariat", "ombudsman", "auditor",
	"dir-exchanges", "dir-custodians", "dir-identity", "dir-users", "dir-governments",
}

// DemoBylawsText is the text of the demo Bylaws, version 1.
const DemoBylawsText = `Bylaws of the Agora demo Community, version 1.
The Board has five seats: one each for the exchanges, custodians and
identity deployers (voting), and for users and governments (non-voting).
The periods are seconds long so that the whole process runs in a demo.`

// Demo returns the founding Community of the dev genesis: three
// resource-direct communities (exchanges, custodians, identity deployers),
// two resource-indirect ones (users, governments), a Board of five seats,
// the ROLE, Secretariat, Ombudsman and an external auditor, the root
// resource with registries of accredited issuers, attesters and identity
// verifiers and a namespace, and
// periods of seconds. key returns the public key of a name in DemoKeys.
func Demo(key func(name string) tx.PublicKey) *Genesis {
	m := func(name string) Member {
		k := key(name)
		return Member{Name: name, Key: &k}
	}
	body := func(id, name, kind string, threshold uint32, members ...string) Body {
		b := Body{ID: id, Name: name, Kind: kind, Threshold: threshold}
		for _, n := range members {
			b.Members = append(b.Members, m(n))
		}
		return b
	}
	sec := func(d time.Duration) Duration { return Duration(d / time.Millisecond) }
	sum := sha256.Sum256([]byte(DemoBylawsText))
	bylawsDoc := hex.EncodeToString(sum[:])
	d := func(name string) *Member { x := m(name); return &x }
	return &Genesis{
		Bylaws: Bylaws{
			Document: bylawsDoc, Version: 1,
			Seats: []Allocation{{Body: "exchanges", Seats: 1}, {Body: "custodians", Seats: 1}, {Body: "identity", Seats: 1},
				{Body: "users", Seats: 1}, {Body: "governments", Seats: 1}},
			VotingPeriod: sec(30 * time.Second), Quorum: 500, Majority: 501, Supermajority: 667,
			ReviewPeriod: sec(12 * time.Second), Objections: 2,
			ExecutionDelay: sec(3 * time.Second), ReviewWindow: sec(60 * time.Second),
			PetitionWindow: sec(20 * time.Second), Reject: 3, Remove: 2, Recall: 4,
			EmergencyOfficer: "role", EmergencyPeriod: sec(30 * time.Second),
			ROLE: "role", Secretariat: "secretariat", Ombudsman: "ombudsman",
			SecretariatPeriod: sec(20 * time.Second), PanelPeriod: sec(40 * time.Second),
			StaysPerRequester: 1, StaysPerChange: 3,
			EmergencyScope:     []string{"gov.set_entry", "gov.set_policy", "ledger.set_params", "identity.set_params"},
			VerificationPeriod: sec(60 * time.Second), Approve: 3,
		},
		Bodies: []Body{
			body("exchanges", "Exchanges (VASPs)", Direct, 2, "exchange-tokyo", "exchange-seoul"),
			body("custodians", "Custodians", Direct, 1, "custodian-zurich", "custodian-ny"),
			body("identity", "Identity deployers", Direct, 1, "telco-id", "university-id"),
			body("users", "Users", Indirect, 1, "alice", "bob"),
			body("governments", "Governments", Indirect, 1, "regulator", "ministry"),
			body("role", "Resource Operating Legal Entity", ROLE, 1, "role-operator"),
			body("secretariat", "Secretariat", Secretariat, 1, "secretariat"),
			body("ombudsman", "Ombudsman", Ombudsman, 1, "ombudsman"),
			body("auditors", "External auditors", External, 1, "auditor"),
		},
		Board: []Seat{
			{Body: "exchanges", Voting: true, Director: d("dir-exchanges")},
			{Body: "custodians", Voting: true, Director: d("dir-custodians")},
			{Body: "identity", Voting: true, Director: d("dir-identity")},
			{Body: "users", Voting: false, Director: d("dir-users")},
			{Body: "governments", Voting: false, Director: d("dir-governments")},
		},
		Resources: []Resource{
			{ID: RootResource, Name: "The Agora ledger", Controller: "role"},
			{ID: "issuers", Parent: RootResource, Name: "Accredited credential issuers", Controller: "identity"},
			{ID: "names.exchange", Parent: RootResource, Name: "The .exchange namespace", Controller: "exchanges"},
			// Registries the identity module reads: attesters accredited for
			// confidence scores, and identity verifiers (entries keyed by DID).
			{ID: "attesters", Parent: RootResource, Name: "Accredited attesters", Controller: "identity"},
			{ID: "verifiers", Parent: RootResource, Name: "Accredited identity verifiers", Controller: "identity"},
		},
		Entries:   []GenesisEntry{{Resource: "issuers", Entry: Entry{Key: "issuer-acme", Value: "accredited", By: "identity"}}},
		Documents: []Document{{ID: bylawsDoc, Kind: DocBylaws, Title: "Bylaws, version 1", Author: "the founders", Subject: "bylaws", Version: 1}},
	}
}
