package consent

import (
	"fmt"
	"slices"
	"time"
)

// The ISO/IEC TS 27560 consent record, in the shape of the W3C DPV
// implementation guide ("Consent Records and Receipts as per ISO/IEC TS
// 27560:2023 using DPV"): JSON-LD with DPV terms, conforming to the
// profile https://w3id.org/dpv/schema/dpv-27560#record.

// RecordProfile is the DPV 27560 profile a record conforms to.
const RecordProfile = "https://w3id.org/dpv/schema/dpv-27560#record"

// ISO27560 returns the consent record of the contract c, whose terms t the
// subject holds, with the DIDs of the processors that hold contracts
// derived from it: one dpv:Process for each rule that permits (its
// purposes, the items' personal data categories, its recipients and the
// places and duration of storage), and the consent's status (given at
// creation, withdrawn at revocation). The items' values, the salts and
// the rules that deny stay out. The map encodes to JSON with its keys in
// order.
func ISO27560(t *Terms, c *Contract, processors []string) map[string]any {
	var data []string
	for _, it := range t.Items {
		if !slices.Contains(data, it.Type) {
			data = append(data, it.Type)
		}
	}
	var procs []any
	for i := range t.Rules {
		r := &t.Rules[i].Rule
		if r.Action == ActDeny {
			continue
		}
		p := map[string]any{
			"@type":                 "dpv:Process",
			"dct:identifier":        i,
			"dpv:hasPersonalData":   data,
			"agora:event":           r.Event,
			"agora:action":          r.Action,
			"odrl:action":           ODRLAction(r.Event),
			"dpv:hasProcessing":     DPVProcessing(r.Event),
			"dpv:hasDataController": t.Controller.DID,
		}
		if len(r.Purposes) > 0 {
			p["dpv:hasPurpose"] = r.Purposes
		}
		if len(r.Recipients) > 0 {
			p["dpv:hasRecipient"] = r.Recipients
		}
		var storage []any
		if len(r.Places) > 0 {
			storage = append(storage, map[string]any{"@type": "dpv:StorageLocation", "dpv:hasLocation": r.Places})
		}
		if r.DeleteAfter > 0 {
			storage = append(storage, map[string]any{"@type": "dpv:StorageDeletion", "dpv:hasDuration": isoDuration(r.DeleteAfter)})
		}
		if storage != nil {
			p["dpv:hasStorageCondition"] = storage
		}
		if r.Method != "" {
			p["dpv:hasTechnicalMeasure"] = map[string]string{"anonymise": "dpv:Anonymisation", "aggregate": "dpv:DataAggregation"}[r.Method]
		}
		if r.NotBefore != 0 || r.NotAfter != 0 {
			p["dpv:hasDuration"] = map[string]any{"@type": "dpv:TemporalDuration",
				"time:hasBeginning": msTime(r.NotBefore), "time:hasEnd": msTime(r.NotAfter)}
		}
		procs = append(procs, p)
	}
	status := []any{map[string]any{
		"@type":                   []string{"dpv:ConsentGiven", "dpv:ExpressedConsent"},
		"dpv:isIndicatedBy":       "dpv:DataSubject",
		"dpv:hasIndicationMethod": "signed transaction " + c.TxID.String(),
		"dpv:isIndicatedAtTime":   msTime(c.Created),
	}}
	if c.Revoked != 0 {
		s := map[string]any{
			"@type":                 "dpv:ConsentWithdrawn",
			"dpv:isIndicatedBy":     "dpv:DataSubject",
			"dpv:isIndicatedAtTime": msTime(c.Revoked),
		}
		if c.RevokedVia != "" {
			s["dpv:hasIndicationMethod"] = "withdrawn with contract " + c.RevokedVia
		}
		status = append(status, s)
	}
	rec := map[string]any{
		"@id":                   "urn:agora:consent:" + c.ID,
		"@type":                 "dpv:ConsentRecord",
		"dct:identifier":        c.ID,
		"dct:conformsTo":        RecordProfile,
		"dpv:hasDataSubject":    map[string]any{"@id": t.Subject.DID, "skos:broader": "dpv:DataSubject"},
		"dpv:hasDataController": t.Controller.DID,
		"dpv:hasProcess":        procs,
		"dpv:hasConsentStatus":  status,
		"dpv:hasConsentControl": map[string]any{"@type": []string{"dpv:ProvideConsent", "dpv:WithdrawConsent"},
			"dpv:isExercisedAt": "agora consent revoke"},
		"dpv:hasRight": []any{map[string]any{"@type": []string{"dpv:DataSubjectRight", "eu-gdpr:A7-3"},
			"dct:title": "Right to Withdraw Consent", "dpv:isExercisedAt": "agora consent revoke"}},
	}
	if len(processors) > 0 {
		rec["dpv:hasDataProcessor"] = processors
	}
	if c.Expires != 0 {
		rec["dpv:hasDuration"] = map[string]any{"@type": "dpv:EndDate", "time:hasEnd": msTime(c.Expires)}
	}
	if c.Parent != "" {
		rec["dct:source"] = "urn:agora:consent:" + c.Parent
	}
	return rec
}

// ODRLAction is the ODRL 2.2 action of an event.
func ODRLAction(event string) string {
	return map[string]string{EventUse: "odrl:use", EventStore: "odrl:archive", EventTransfer: "odrl:transfer", EventDelete: "odrl:delete"}[event]
}

// DPVProcessing is the DPV processing operation of an event.
func DPVProcessing(event string) string {
	return map[string]string{EventUse: "dpv:Use", EventStore: "dpv:Store", EventTransfer: "dpv:Transfer", EventDelete: "dpv:Erase"}[event]
}

func msTime(ms int64) any {
	if ms == 0 {
		return nil
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}

// isoDuration writes ms as an ISO 8601 duration in seconds (PT86400S).
func isoDuration(ms int64) string {
	if ms%1000 != 0 {
		return fmt.Sprintf("PT%d.%03dS", ms/1000, ms%1000)
	}
	return fmt.Sprintf("PT%dS", ms/1000)
}
