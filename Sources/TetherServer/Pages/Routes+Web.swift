import Hummingbird

extension BackendAPI {
    /// Unauthenticated files that hold no data: the browser SDK and the shared style sheet.
    func addWebRoutes(to router: Router<TetherRequestContext>) {
        router.get("/sdk/tether.js") { _, _ in assets.response("tether.js") }
        router.get("/web/style.css") { _, _ in assets.response("style.css") }
    }
}
