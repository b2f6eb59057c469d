import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TetherCore
import TetherProtocol

/// `POST /`: the CAR-compatible endpoint (API.md "CAR-compatible endpoint"). Tencent Cloud API 3.0's dialect:
/// the action in `X-TC-Action`, version `2022-01-10`, a `TC3-HMAC-SHA256` signature by a key pair of
/// `POST /v1/keys {car: true}`, PascalCase bodies, and every answer, error or not, a 200 with
/// `Content-Type: application/json` (exactly: Tencent's SDKs read an error only from such an answer) of
/// `{"Response": {…, "RequestId"}}`. A refused call changes nothing.
extension BackendAPI {
    /// CAR's API version.
    static let carVersion = "2022-01-10"
    /// The service in a signature's credential scope.
    static let carService = "car"
    /// How far a request's `X-TC-Timestamp` may be from the server's clock.
    static let carMaxSkewSeconds: Int64 = 300

    func addCARRoutes(to router: Router<TetherRequestContext>) {
        router.post("/") { request, context -> Response in
            var context = context
            let fields: [String: JSONValue]
            do {
                let body = Array(try await request.body.collect(upTo: APILimits.maxBodyBytes).readableBytesView)
                let (entry, action) = try carAuthenticate(request, body: body)
                context.scope = entry.scope
                context.keyId = entry.keyId
                fields = try await carPerform(action, body: body, context: context)
            } catch {
                let refusal = CARError(error)
                return Self.carResponse(
                    ["Error": .object(["Code": .string(refusal.code), "Message": .string(refusal.message)])],
                    requestId: context.requestId)
            }
            return Self.carResponse(fields, requestId: context.requestId)
        }
    }

    /// Checks the headers and the signature; the key and the action.
    func carAuthenticate(_ request: Request, body: [UInt8]) throws -> (KeyEntry, String) {
        let headers = request.headers
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { headers[$0] } }
        guard let raw = headers[.authorization] else {
            throw CARError("AuthFailure.InvalidAuthorization", "the Authorization header is missing")
        }
        guard let authorization = TC3Signature.Authorization(raw) else {
            throw CARError(
                "AuthFailure.InvalidAuthorization", "Authorization: not a TC3-HMAC-SHA256 authorization")
        }
        guard let action = header("X-TC-Action"), !action.isEmpty else {
            throw CARError("MissingParameter", "the X-TC-Action header is missing")
        }
        guard let timestampText = header("X-TC-Timestamp") else {
            throw CARError("MissingParameter", "the X-TC-Timestamp header is missing")
        }
        guard let timestamp = Int64(timestampText), timestampText.utf8.count <= 12 else {
            throw CARError("InvalidParameterValue", "X-TC-Timestamp: must be Unix seconds, got '\(timestampText)'")
        }
        guard let version = header("X-TC-Version") else {
            throw CARError("MissingParameter", "the X-TC-Version header is missing")
        }
        guard authorization.signedHeaders.contains("content-type"), authorization.signedHeaders.contains("host")
        else {
            throw CARError("AuthFailure.InvalidAuthorization", "SignedHeaders: must sign content-type and host")
        }
        let now = time.now() / 1_000
        guard abs(now - timestamp) <= Self.carMaxSkewSeconds else {
            throw CARError(
                "AuthFailure.SignatureExpire",
                "X-TC-Timestamp \(timestamp) is more than 5 minutes from the server's time \(now)")
        }
        guard let (entry, secretKey) = keys.carKey(secretId: authorization.secretId) else {
            throw CARError("AuthFailure.SecretIdNotFound", "no key pair has SecretId \(authorization.secretId)")
        }
        // Hummingbird moves `Host` into the request's authority.
        var signed: [String: String] = [:]
        for name in authorization.signedHeaders {
            if name == "host" {
                signed[name] = request.head.authority
            } else if let value = header(name) {
                signed[name] = value
            } else {
                throw CARError("AuthFailure.InvalidAuthorization", "SignedHeaders: '\(name)' is not in the request")
            }
        }
        let signature = TC3Signature(
            method: "POST", path: "/", query: request.uri.query ?? "", headers: signed,
            signedHeaders: authorization.signedHeaders, body: body, timestamp: timestamp,
            service: authorization.service)
        guard authorization.service == Self.carService, authorization.date == TC3Signature.date(of: timestamp),
            signature.verifies(authorization.signature, secretKey: secretKey)
        else {
            throw CARError("AuthFailure.SignatureFailure", "the request's signature does not match")
        }
        guard version == Self.carVersion else {
            throw CARError("NoSuchVersion", "X-TC-Version: only \(Self.carVersion) is served, got '\(version)'")
        }
        guard let contentType = headers[.contentType],
            contentType.lowercased().split(separator: ";").first?.trimmingCharacters(in: .whitespaces)
                == "application/json"
        else {
            throw CARError("InvalidParameter", "Content-Type: must be application/json")
        }
        return (entry, action)
    }

    /// `{"Response": {fields…, "RequestId"}}`, 200, `Content-Type: application/json` exactly.
    static func carResponse(_ fields: [String: JSONValue], requestId: String) -> Response {
        var response = fields
        response["RequestId"] = .string(requestId)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(JSONValue.object(["Response": .object(response)]))) ?? Data()
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
