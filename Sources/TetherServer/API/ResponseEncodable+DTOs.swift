import Hummingbird
import TetherCore

// The API's response bodies are JSON-encoded with the context's encoder.
extension ProjectDTO: ResponseEncodable {}
extension ProjectListDTO: ResponseEncodable {}
extension CreatedSessionDTO: ResponseEncodable {}
extension SessionDTO: ResponseEncodable {}
extension SessionListDTO: ResponseEncodable {}
extension EventListDTO: ResponseEncodable {}
extension Applied: ResponseEncodable {}
extension ConcurrencyCount: ResponseEncodable {}
