package web

import "net/http"

func init() {
	addRoutes(func(s *Server, mux *http.ServeMux) {
		// An organisation's response teams, people and agreements.
		mux.Handle("GET /orgs/{id}/readiness", s.page(s.handleReadinessOrg))
		mux.Handle("POST /orgs/{id}/readiness/teams", s.page(s.handleReadinessTeamCreate))
		mux.Handle("POST /orgs/{id}/readiness/people", s.page(s.handleReadinessPersonCreate))
		mux.Handle("POST /orgs/{id}/readiness/agreements", s.page(s.handleReadinessAgreementCreate))
		mux.Handle("GET /orgs/{id}/readiness/people.csv", s.page(s.handleReadinessPeopleCSV))
		mux.Handle("GET /orgs/{id}/readiness/people.xlsx", s.page(s.handleReadinessPeopleXLSX))

		// A person: fields and certificates corrected, deleted.
		mux.Handle("GET /orgs/{id}/readiness/people/{pid}", s.page(s.handleReadinessPerson))
		mux.Handle("POST /orgs/{id}/readiness/people/{pid}", s.page(s.handleReadinessPersonUpdate))
		mux.Handle("POST /orgs/{id}/readiness/people/{pid}/delete", s.page(s.handleReadinessPersonDelete))
		mux.Handle("POST /orgs/{id}/readiness/people/{pid}/certificates", s.page(s.handleReadinessPersonCertAdd))
		mux.Handle("POST /orgs/{id}/readiness/people/{pid}/certificates/{cid}", s.page(s.handleReadinessPersonCertUpdate))
		mux.Handle("POST /orgs/{id}/readiness/people/{pid}/certificates/{cid}/delete", s.page(s.handleReadinessPersonCertDelete))

		// A team: members, certificates, courses, rota, SIM3.
		mux.Handle("GET /orgs/{id}/readiness/teams/{tid}", s.page(s.handleReadinessTeam))
		mux.Handle("POST /orgs/{id}/readiness/teams/{tid}", s.page(s.handleReadinessTeamUpdate))
		mux.Handle("POST /orgs/{id}/readiness/teams/{tid}/members", s.page(s.handleReadinessMemberAdd))
		mux.Handle("POST /orgs/{id}/readiness/teams/{tid}/members/{pid}/remove", s.page(s.handleReadinessMemberRemove))
		mux.Handle("POST /orgs/{id}/readiness/teams/{tid}/members/{pid}/certificates", s.page(s.handleReadinessCertAdd))
		mux.Handle("POST /orgs/{id}/readiness/teams/{tid}/members/{pid}/trainings", s.page(s.handleReadinessTrainingAdd))
		mux.Handle("POST /orgs/{id}/readiness/teams/{tid}/shifts", s.page(s.handleReadinessShiftAdd))
		mux.Handle("POST /orgs/{id}/readiness/teams/{tid}/shifts/{sid}/delete", s.page(s.handleReadinessShiftDelete))
		mux.Handle("GET /orgs/{id}/readiness/teams/{tid}/sim3", s.page(s.handleReadinessSim3))
		mux.Handle("POST /orgs/{id}/readiness/teams/{tid}/sim3", s.page(s.handleReadinessSim3Save))
		mux.Handle("GET /orgs/{id}/readiness/teams/{tid}/sim3.csv", s.page(s.handleReadinessSim3CSV))
		mux.Handle("GET /orgs/{id}/readiness/teams/{tid}/sim3.xlsx", s.page(s.handleReadinessSim3XLSX))

		// Scenarios: the national catalogue and an organisation's own, ranked.
		mux.Handle("GET /readiness/scenarios", s.page(s.handleReadinessScenarios))
		mux.Handle("POST /readiness/scenarios", s.page(s.handleReadinessScenarioCreate))
		mux.Handle("GET /orgs/{id}/readiness/scenarios", s.page(s.handleReadinessScenarios))
		mux.Handle("POST /orgs/{id}/readiness/scenarios", s.page(s.handleReadinessScenarioCreate))
		mux.Handle("POST /orgs/{id}/readiness/scenarios/copy", s.page(s.handleReadinessScenarioCopy))

		// Drills: the year's obligations, who has not drilled, planning.
		mux.Handle("GET /readiness/drills", s.page(s.handleReadinessDrills))
		mux.Handle("POST /readiness/drills", s.page(s.handleReadinessDrillCreate))
		mux.Handle("GET /readiness/drills/{did}", s.page(s.handleReadinessDrill))
		mux.Handle("POST /readiness/drills/{did}", s.page(s.handleReadinessDrillUpdate))

		// Response plans: every plan in scope, an organisation's, one plan
		// with its versions, its workflow and its printable page.
		mux.Handle("GET /readiness/plans", s.page(s.handleReadinessPlans))
		mux.Handle("GET /readiness/plans.csv", s.page(s.handleReadinessPlansCSV))
		mux.Handle("GET /readiness/plans.xlsx", s.page(s.handleReadinessPlansXLSX))
		mux.Handle("GET /orgs/{id}/readiness/plans", s.page(s.handleReadinessPlans))
		mux.Handle("GET /orgs/{id}/readiness/plans.csv", s.page(s.handleReadinessPlansCSV))
		mux.Handle("GET /orgs/{id}/readiness/plans.xlsx", s.page(s.handleReadinessPlansXLSX))
		mux.Handle("GET /orgs/{id}/readiness/plans/new", s.page(s.handleReadinessPlanNew))
		mux.Handle("POST /orgs/{id}/readiness/plans", s.page(s.handleReadinessPlanCreate))
		mux.Handle("GET /orgs/{id}/readiness/plans/{pid}", s.page(s.handleReadinessPlan))
		mux.Handle("GET /orgs/{id}/readiness/plans/{pid}/edit", s.page(s.handleReadinessPlanEdit))
		mux.Handle("POST /orgs/{id}/readiness/plans/{pid}", s.page(s.handleReadinessPlanUpdate))
		mux.Handle("POST /orgs/{id}/readiness/plans/{pid}/submit", s.page(s.handleReadinessPlanSubmit))
		mux.Handle("POST /orgs/{id}/readiness/plans/{pid}/approve", s.page(s.handleReadinessPlanApprove))
		mux.Handle("POST /orgs/{id}/readiness/plans/{pid}/return", s.page(s.handleReadinessPlanReturn))
		mux.Handle("POST /orgs/{id}/readiness/plans/{pid}/delete", s.page(s.handleReadinessPlanDelete))
		mux.Handle("GET /orgs/{id}/readiness/plans/{pid}/print", s.page(s.handleReadinessPlanPrint))

		// The network's SIM3 maturity in the actor's scope.
		mux.Handle("GET /readiness/maturity", s.page(s.handleReadinessMaturity))
	})
}
