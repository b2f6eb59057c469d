import HTTPTypes
import Testing
import TetherCore

@testable import TetherServer

/// Every error a route can throw becomes the contract's status and code (the broker service knows no HTTP).
@Suite struct APIErrorMappingTests {
    @Test func aStoreThatCannotCommitIs503InternalErrorStore() {
        let error = APIErrorMiddleware.apiError(for: StoreUnavailable())
        #expect(error.status == .serviceUnavailable && error.code == "InternalError.Store")
    }

    @Test func brokerRefusalsKeepTheirCodes() {
        #expect(
            APIErrorMiddleware.apiError(for: BrokerError.noIdle(retryAfterMs: 20_000)).code == "ResourceNotFound.NoIdle"
        )
        #expect(APIErrorMiddleware.apiError(for: BrokerError.projectNotFound("p")).status == .notFound)
    }
}
