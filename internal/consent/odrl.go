package consent

// ODRL returns the policy of the terms t as a W3C ODRL 2.2 Agreement in
// JSON-LD (context http://www.w3.org/ns/odrl.jsonld): the subject assigns
// to the controller one permission for each permitting rule and one
// prohibition for each deny rule, on the contract's items, with the
// rule's conditions as constraints and its method, delay and obligations
// as duties and a delayPeriod (docs/spec/consent.md, section 2). ODRL
// has no rule order: the ledger's first-match evaluation, and its
// denial of what no rule permits, are this rendering's "agora:order" and
// "conflict": "prohibit". The map encodes to JSON with its keys in order.
func ODRL(t *Terms) map[string]any {
	target := "urn:agora:consent:" + t.ID() + "#items"
	var perms, prohibs []any
	for i := range t.Rules {
		r := &t.Rules[i].Rule
		rule := map[string]any{"target": target, "action": ODRLAction(r.Event)[len("odrl:"):], "agora:order": i}
		var cons []any
		constraint := func(left, op string, right any) {
			cons = append(cons, map[string]any{"leftOperand": left, "operator": op, "rightOperand": right})
		}
		if len(r.Purposes) > 0 {
			constraint("purpose", "isAnyOf", r.Purposes)
		}
		if r.NotBefore != 0 {
			constraint("dateTime", "gteq", map[string]any{"@value": msTime(r.NotBefore), "@type": "xsd:dateTime"})
		}
		if r.NotAfter != 0 {
			constraint("dateTime", "lt", map[string]any{"@value": msTime(r.NotAfter), "@type": "xsd:dateTime"})
		}
		if r.MaxCount > 0 {
			constraint("count", "lt", r.MaxCount)
		}
		if len(r.Recipients) > 0 {
			constraint("recipient", "isAnyOf", r.Recipients)
		}
		if len(r.Places) > 0 {
			constraint("spatial", "isAnyOf", r.Places)
		}
		if r.Delay > 0 {
			constraint("delayPeriod", "eq", map[string]any{"@value": isoDuration(r.Delay), "@type": "xsd:duration"})
		}
		if cons != nil {
			rule["constraint"] = cons
		}
		var duties []any
		if r.Method != "" {
			duties = append(duties, map[string]any{"action": map[string]string{"anonymise": "anonymize", "aggregate": "aggregate"}[r.Method]})
		}
		if r.Notify {
			duties = append(duties, map[string]any{"action": "inform", "informedParty": t.Subject.DID})
		}
		if r.DeleteAfter > 0 {
			duties = append(duties, map[string]any{"action": "delete", "constraint": []any{map[string]any{
				"leftOperand": "delayPeriod", "operator": "eq",
				"rightOperand": map[string]any{"@value": isoDuration(r.DeleteAfter), "@type": "xsd:duration"}}}})
		}
		if duties != nil {
			rule["duty"] = duties
		}
		if r.Action == ActDeny {
			prohibs = append(prohibs, rule)
		} else {
			perms = append(perms, rule)
		}
	}
	p := map[string]any{
		"@context": []any{"http://www.w3.org/ns/odrl.jsonld", map[string]string{"agora": "urn:agora:ns:consent#", "xsd": "http://www.w3.org/2001/XMLSchema#"}},
		"@type":    "Agreement",
		"uid":      "urn:agora:consent:" + t.ID(),
		"assigner": t.Subject.DID,
		"assignee": t.Controller.DID,
		"conflict": "prohibit",
	}
	if perms != nil {
		p["permission"] = perms
	}
	if prohibs != nil {
		p["prohibition"] = prohibs
	}
	return p
}
