import Testing

@testable import TetherCore

/// The cluster lease as one node sees it: taken, renewed, lost, and never believed held past what the
/// database granted.
struct LeaseHolderTests {
    func step(_ holder: inout LeaseHolder, at now: Millis) -> LeaseHolder.Step { holder.step(at: now) }
    func renew(_ holder: inout LeaseHolder, _ ok: Bool?, fence: Int64, startedAt: Millis) -> LeaseHolder.Step? {
        holder.renewed(ok, fence: fence, startedAt: startedAt)
    }
    func acquire(_ holder: inout LeaseHolder, _ fence: Int64?, startedAt: Millis) -> Bool {
        holder.acquired(fence, startedAt: startedAt)
    }

    @Test func aFollowerTriesToTakeTheLeaseAtEveryStep() {
        var holder = LeaseHolder(ttlMs: 5_000)
        #expect(step(&holder, at: 0) == .acquire)
        #expect(!acquire(&holder, nil, startedAt: 0))
        #expect(holder.role == .follower)
        #expect(step(&holder, at: 250) == .acquire)
    }

    @Test func theOwnerRenewsEveryFifthOfTheTTLAndWaitsBetween() {
        var holder = LeaseHolder(ttlMs: 5_000)
        #expect(acquire(&holder, 7, startedAt: 1_000))
        #expect(holder.role == .owner(fence: 7))
        #expect(step(&holder, at: 1_500) == .wait)
        #expect(step(&holder, at: 2_000) == .renew(fence: 7))
        #expect(renew(&holder, true, fence: 7, startedAt: 2_000) == nil)
        #expect(step(&holder, at: 2_999) == .wait)
        #expect(step(&holder, at: 3_000) == .renew(fence: 7))
    }

    @Test func theLeaseIsBelievedOnlyUntilTheTTLFromTheAttemptsStartLessTheMargin() {
        var holder = LeaseHolder(ttlMs: 5_000)
        holder.acquired(1, startedAt: 1_000)
        // The database granted 5 000 ms from a moment after 1 000; the node believes 5 000 − 500 from 1 000.
        #expect(holder.validUntil == 5_500)
        #expect(holder.owns(at: 5_499))
        #expect(!holder.owns(at: 5_500))
    }

    @Test func anOwnerThatCannotRenewInTimeFencesItself() {
        var holder = LeaseHolder(ttlMs: 1_000)
        holder.acquired(3, startedAt: 0)
        #expect(step(&holder, at: 200) == .renew(fence: 3))
        #expect(renew(&holder, nil, fence: 3, startedAt: 200) == nil)  // the database did not answer
        #expect(holder.role == .owner(fence: 3))
        #expect(step(&holder, at: 300) == .wait)  // the next try at the next renewal time
        #expect(step(&holder, at: 400) == .renew(fence: 3))
        #expect(renew(&holder, nil, fence: 3, startedAt: 400) == nil)
        // A stall (SIGSTOP) past the lease: the first step after it fences, before anything else.
        #expect(step(&holder, at: 5_000) == .fence(3))
        #expect(holder.role == .follower)
        #expect(!holder.owns(at: 5_000))
        #expect(step(&holder, at: 5_001) == .acquire)
    }

    @Test func aRenewalRefusedMeansAnotherNodeTookTheLease() {
        var holder = LeaseHolder(ttlMs: 1_000)
        holder.acquired(3, startedAt: 0)
        #expect(renew(&holder, false, fence: 3, startedAt: 200) == .fence(3))
        #expect(holder.role == .follower)
    }

    @Test func aLateAnswerForAnOldFenceChangesNothing() {
        var holder = LeaseHolder(ttlMs: 1_000)
        holder.acquired(3, startedAt: 0)
        #expect(renew(&holder, false, fence: 2, startedAt: 100) == nil)
        #expect(holder.role == .owner(fence: 3))
        // A renewal that started earlier never shortens what a later one granted.
        #expect(renew(&holder, true, fence: 3, startedAt: 600) == nil)
        #expect(renew(&holder, true, fence: 3, startedAt: 400) == nil)
        #expect(holder.validUntil == 600 + 1_000 - 100)
    }

    @Test func anOwnerTakesNoSecondGrant() {
        var holder = LeaseHolder(ttlMs: 1_000)
        holder.acquired(3, startedAt: 0)
        #expect(!acquire(&holder, 4, startedAt: 10))
        #expect(holder.role == .owner(fence: 3))
    }

    @Test func releasingMakesAFollower() {
        var holder = LeaseHolder(ttlMs: 1_000)
        holder.acquired(3, startedAt: 0)
        holder.released()
        #expect(holder.role == .follower)
        #expect(!holder.owns(at: 1))
    }
}
