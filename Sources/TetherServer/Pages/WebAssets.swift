import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The browser files of `Sources/TetherServer/Web` (the SDK, the demo and the dashboard), read once from
/// the resource bundle at start and served as they are, with their content type and `Cache-Control: no-cache`.
struct WebAssets: Sendable {
    /// One file, ready to serve.
    struct Asset: Sendable {
        var contentType: String
        var body: ByteBuffer
    }

    /// Every file by name (`tether.js`, `demo.html`, ...).
    let files: [String: Asset]

    /// The files every server serves.
    static let names = [
        "tether.js", "style.css", "demo.html", "demo.js", "dashboard.html", "dashboard.js", "feed.js",
        "charts.js",
    ]

    /// Reads every file of ``names`` from the bundle; a missing one is an error (a broken install).
    static func load(bundle: Bundle = .module) throws -> WebAssets {
        var files: [String: Asset] = [:]
        for name in names {
            let url = URL(fileURLWithPath: name)
            guard
                let path = bundle.url(
                    forResource: url.deletingPathExtension().lastPathComponent, withExtension: url.pathExtension,
                    subdirectory: "Web")
            else { throw MissingAsset(name: name, bundle: bundle.bundlePath) }
            let data = try Data(contentsOf: path)
            files[name] = Asset(contentType: contentType(of: url.pathExtension), body: ByteBuffer(bytes: data))
        }
        return WebAssets(files: files)
    }

    /// The content type of a file extension.
    static func contentType(of pathExtension: String) -> String {
        switch pathExtension {
        case "js": "text/javascript; charset=utf-8"
        case "html": "text/html; charset=utf-8"
        case "css": "text/css; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    /// The response for a file. Pages get a content security policy: their own scripts and styles only,
    /// network access to this origin and to WebSockets (the client plane is another port).
    func response(_ name: String) -> Response {
        guard let asset = files[name] else { return Response(status: .notFound) }
        var headers: HTTPFields = [
            .contentType: asset.contentType, .cacheControl: "no-cache", .xContentTypeOptions: "nosniff",
        ]
        if asset.contentType.hasPrefix("text/html") {
            headers[.contentSecurityPolicy] =
                "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'"
            headers[Self.referrerPolicy] = "no-referrer"
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.body))
    }

    /// `Referrer-Policy` (not among HTTPTypes' predefined names).
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    /// A file listed in ``names`` is not in the bundle.
    struct MissingAsset: Error, CustomStringConvertible {
        var name: String
        var bundle: String
        var description: String { "web asset \(name) is missing from \(bundle)/Web" }
    }
}
