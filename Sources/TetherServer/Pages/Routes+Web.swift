import Hummingbird

extension BackendAPI {
    /// Unauthenticated files that hold no data: the browser SDK, the shared style sheet and the dashboard
    /// (which asks for the API key and calls `/v1` itself with it).
    func addWebRoutes(to router: Router<TetherRequestContext>) {
        router.get("/sdk/tether.js") { _, _ in assets.response("tether.js") }
        router.get("/web/style.css") { _, _ in assets.response("style.css") }
        router.get("/dashboard") { _, _ in assets.response("dashboard.html") }
        router.get("/dashboard/dashboard.js") { _, _ in assets.response("dashboard.js") }
        router.get("/dashboard/feed.js") { _, _ in assets.response("feed.js") }
        router.get("/dashboard/charts.js") { _, _ in assets.response("charts.js") }
    }
}
