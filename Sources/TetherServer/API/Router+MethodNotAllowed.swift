import HTTPTypes
import Hummingbird

extension Router where Context == TetherRequestContext {
    /// The methods a path may be asked for; those it does not serve are answered 405.
    static var answeredMethods: [HTTPRequest.Method] {
        // QUERY: the safe method with a body (draft-ietf-httpbis-safe-method-w-body), which clients and
        // fuzzers already send.
        [.get, .head, .post, .put, .patch, .delete, .options, .trace, HTTPRequest.Method("QUERY")!]
    }

    /// Answers a method that a known path does not serve with 405 `UnsupportedOperation` and an `Allow`
    /// header listing the methods it does serve (RFC 9110 §15.5.6), instead of the router's 404. Call it
    /// after every route is added.
    func answerUnservedMethods() {
        var served: [String: (path: RouterPath, methods: Set<HTTPRequest.Method>)] = [:]
        for route in routes {
            served[route.path.description, default: (route.path, [])].methods.insert(route.method)
        }
        for (path, methods) in served.values {
            let allow = methods.map(\.rawValue).sorted().joined(separator: ", ")
            let error = APIError(
                .methodNotAllowed, code: "UnsupportedOperation", message: "method not allowed here; allowed: \(allow)"
            )
            for method in Self.answeredMethods where !methods.contains(method) {
                on(path, method: method) { _, _ -> Response in
                    var refusal = error
                    refusal.allow = allow
                    throw refusal
                }
            }
        }
    }
}
