import Hummingbird
import TetherCore

/// Requires `Authorization: Bearer <api key>` naming a key of the ``KeyRing``, and gives the request its key's
/// scope. A key is read from that header only, never from the URL.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = TetherRequestContext
    /// The accepted keys.
    let ring: KeyRing
    /// A follower re-reads the stored keys first, so that a key revoked through the owner is refused here too.
    var reloadEachCall = false

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.utf8.count < 1024
        else { throw APIError.authFailure }
        if reloadEachCall {
            do { try await ring.reload() } catch { throw StoreUnavailable() }
        }
        guard let entry = ring.authenticate(String(header.dropFirst("Bearer ".count))) else {
            throw APIError.authFailure
        }
        var context = context
        context.scope = entry.scope
        context.keyId = entry.keyId
        return try await next(request, context)
    }
}
