import Hummingbird

/// Requires `Authorization: Bearer <api key>` whose SHA-256 matches a stored hash (compared in constant time).
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = TetherRequestContext
    /// SHA-256 hex hashes of the accepted keys.
    let keyHashes: [String]

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.utf8.count < 1024
        else { throw APIError.authFailure }
        let presented = Secrets.hash(String(header.dropFirst("Bearer ".count)))
        var match = false
        for hash in keyHashes where Secrets.constantTimeEquals(hash, presented) { match = true }
        guard match else { throw APIError.authFailure }
        return try await next(request, context)
    }
}
