package policy

// Notification actions (internal/notify). The inbox and the preferences are
// the user's own; the service checks them against a resource whose Subject
// is the actor. Webhook endpoints belong to an organisation and are managed
// by its administrators (and those of organisations above it). The outbox
// page is for the national administrators and auditors (a national read).
const (
	// NotifyInboxRead: read one's own inbox and preferences (auditors in
	// scope may read them too, as they read everything).
	NotifyInboxRead Action = "notify.inbox.read"
	// NotifyInboxWrite: mark one's own notifications read, change one's
	// own preferences.
	NotifyInboxWrite Action = "notify.inbox.write"
	// NotifyWebhookRead: list an organisation's webhook endpoints and their
	// delivery log.
	NotifyWebhookRead Action = "notify.webhook.read"
	// NotifyWebhookWrite: create, change, delete and test them.
	NotifyWebhookWrite Action = "notify.webhook.write"
	// NotifyOutboxRead: the state of the outbox (pending, failed, dead).
	NotifyOutboxRead Action = "notify.outbox.read"
)

func init() {
	for a, r := range map[Action]rule{
		NotifyInboxRead:    {roles: []Role{RoleAuditor}, self: true},
		NotifyInboxWrite:   {write: true, self: true, selfOnly: true},
		NotifyWebhookRead:  {roles: []Role{RoleAdmin, RoleAuditor}},
		NotifyWebhookWrite: {write: true, roles: []Role{RoleAdmin}},
		NotifyOutboxRead:   {roles: []Role{RoleAdmin, RoleAuditor}, national: true},
	} {
		if _, dup := rules[a]; dup {
			panic("policy: action registered twice: " + string(a))
		}
		rules[a] = r
	}
}
