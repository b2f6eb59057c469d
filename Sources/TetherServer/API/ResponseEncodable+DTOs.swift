import Hummingbird
import TetherCore

// The API's response bodies are JSON-encoded with the context's encoder (the busiest ones by hand:
// DTO+JSONWriter.swift).
extension ProjectDTO: ResponseEncodable {}
extension ProjectListDTO: ResponseEncodable {}
extension SessionListDTO: ResponseEncodable {}
extension EventListDTO: ResponseEncodable {}
extension ConcurrencyCount: ResponseEncodable {}
