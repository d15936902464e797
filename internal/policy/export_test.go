package policy

// Unregister removes an action added by a test with Register, so that tests
// which register throw-away actions leave Actions() as they found it.
func Unregister(a Action) { delete(rules, a) }
