import Crypto
import Foundation

/// Tencent Cloud API 3.0's request signature, `TC3-HMAC-SHA256`, as Tencent documents it and its SDKs compute
/// it: a canonical request (method, path, query, the signed headers, the body's SHA-256), a string to sign with
/// the timestamp and the credential scope, and a key derived from the secret key by date, service and
/// `tc3_request`. Pure: the caller gives the headers, the body and the secret.
struct TC3Signature: Sendable {
    /// The algorithm's name, first in `Authorization`.
    static let algorithm = "TC3-HMAC-SHA256"

    /// The fields of an `Authorization` header:
    /// `TC3-HMAC-SHA256 Credential=<SecretId>/<Date>/<service>/tc3_request, SignedHeaders=a;b, Signature=<hex>`.
    struct Authorization: Sendable, Hashable {
        var secretId: String
        /// `yyyy-MM-dd` (UTC) of the request's timestamp.
        var date: String
        var service: String
        /// Lower-case header names, in the order signed.
        var signedHeaders: [String]
        /// Lower-case hex.
        var signature: String

        /// Parses the header; nil when it is not of this shape.
        init?(_ header: String) {
            guard header.hasPrefix(TC3Signature.algorithm + " ") else { return nil }
            var fields: [String: String] = [:]
            for part in header.dropFirst(TC3Signature.algorithm.count + 1).split(separator: ",") {
                let trimmed = part.trimmingCharacters(in: .whitespaces)
                guard let eq = trimmed.firstIndex(of: "=") else { return nil }
                let name = String(trimmed[..<eq])
                guard fields[name] == nil else { return nil }
                fields[name] = String(trimmed[trimmed.index(after: eq)...])
            }
            guard fields.count == 3, let credential = fields["Credential"], let signed = fields["SignedHeaders"],
                let signature = fields["Signature"]
            else { return nil }
            let scope = credential.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard scope.count == 4, scope[3] == "tc3_request", !scope[0].isEmpty, !scope[1].isEmpty,
                !scope[2].isEmpty
            else { return nil }
            let headers = signed.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard !headers.isEmpty, headers.allSatisfy({ !$0.isEmpty && $0 == $0.lowercased() }),
                signature.utf8.count == 64,
                signature.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) })
            else { return nil }
            (secretId, date, service, signedHeaders, self.signature) = (
                scope[0], scope[1], scope[2], headers, signature
            )
        }
    }

    /// The request as signed.
    var method: String
    /// The path (`/`) and the query string (empty for a POST).
    var path: String
    var query: String
    /// Each signed header's value, by lower-case name.
    var headers: [String: String]
    var signedHeaders: [String]
    /// The body's exact bytes.
    var body: [UInt8]
    /// `X-TC-Timestamp` (Unix seconds).
    var timestamp: Int64
    var service: String

    /// `yyyy-MM-dd` (UTC) of `timestamp`.
    static func date(of timestamp: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date(timeIntervalSince1970: Double(timestamp)))
    }

    /// The canonical request.
    var canonicalRequest: String {
        let canonicalHeaders = signedHeaders.map { name in
            "\(name):\((headers[name] ?? "").trimmingCharacters(in: .whitespaces).lowercased())\n"
        }.joined()
        return [
            method, path, query, canonicalHeaders, signedHeaders.joined(separator: ";"),
            Secrets.hex(SHA256.hash(data: body)),
        ].joined(separator: "\n")
    }

    /// The string to sign.
    var stringToSign: String {
        let scope = "\(Self.date(of: timestamp))/\(service)/tc3_request"
        return [Self.algorithm, String(timestamp), scope, Secrets.hex(SHA256.hash(data: Array(canonicalRequest.utf8)))]
            .joined(separator: "\n")
    }

    /// The signature with `secretKey`, lower-case hex.
    func signature(secretKey: String) -> String {
        func hmac(_ key: [UInt8], _ text: String) -> [UInt8] {
            Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: SymmetricKey(data: key)))
        }
        let secretDate = hmac(Array("TC3\(secretKey)".utf8), Self.date(of: timestamp))
        let secretService = hmac(secretDate, service)
        let secretSigning = hmac(secretService, "tc3_request")
        return Secrets.hex(hmac(secretSigning, stringToSign))
    }

    /// Whether `signature` is this request's signature with `secretKey` (compared in constant time).
    func verifies(_ signature: String, secretKey: String) -> Bool {
        let expected = Array(self.signature(secretKey: secretKey).utf8)
        let given = Array(signature.utf8)
        guard expected.count == given.count else { return false }
        return zip(expected, given).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
