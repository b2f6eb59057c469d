/// The backend API's bodies, declared once for the server (which fills them from its core types) and the
/// SDK (which decodes them): the members and their JSON names are the contract's (`../shared/API.md`,
/// `openapi.json`). States, causes, reasons and event types are the contract's strings, so that an SDK
/// built against this version still reads a value a newer server adds.
public enum TetherAPI {}
