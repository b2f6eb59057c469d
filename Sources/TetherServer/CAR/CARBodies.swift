/// The bodies of the CAR actions Tether serves (CAR API 2022-01-10, PascalCase), read by ``CARParameters``.
enum CARBodies {
    /// ApplyConcurrent.
    struct Apply: CARBody {
        var UserId: String
        var UserIp: String?
        var ProjectId: String
        static let accepted: Set<String> = ["UserId", "UserIp", "ProjectId"]
        static let ignored: Set<String> = ["ApplicationVersionId", "ApplicationId"]
    }

    /// CreateSession (no project: the user's latest hold's).
    struct CreateSession: CARBody {
        var UserId: String
        var UserIp: String?
        var ClientSession: String?
        var RunMode: String?
        var ApplicationParameters: String?
        var HostUserId: String?
        var Role: String?
        static let accepted: Set<String> = [
            "UserId", "UserIp", "ClientSession", "RunMode", "ApplicationParameters", "HostUserId", "Role",
        ]
    }

    /// DestroySession.
    struct DestroySession: CARBody {
        var UserId: String
        static let accepted: Set<String> = ["UserId"]
    }

    /// DescribeConcurrentCount.
    struct Count: CARBody {
        var ProjectId: String
        static let accepted: Set<String> = ["ProjectId"]
        static let ignored: Set<String> = ["ApplicationCategory"]
    }

    /// CreateApplicationProject: `ProjectId` (Tether's addition; generated `cap-…` when absent), `Name`,
    /// `ReconnectTimeout` (seconds, the grace window) and `Capacity` (Tether's: CAR sells concurrency apart).
    struct CreateProject: CARBody {
        var Name: String
        var ProjectId: String?
        var ReconnectTimeout: Int64?
        var Capacity: Int?
        static let accepted: Set<String> = ["Name", "ProjectId", "ReconnectTimeout", "Capacity"]
    }

    /// ModifyApplicationProject.
    struct ModifyProject: CARBody {
        var ProjectId: String
        var Name: String?
        var ReconnectTimeout: Int64?
        var Capacity: Int?
        static let accepted: Set<String> = ["ProjectId", "Name", "ReconnectTimeout", "Capacity"]
    }

    /// DeleteApplicationProjects.
    struct DeleteProjects: CARBody {
        var ProjectIds: [String]
        static let accepted: Set<String> = ["ProjectIds"]
    }

    /// DescribeApplicationProjects.
    struct DescribeProjects: CARBody {
        var ProjectIds: [String]?
        var Offset: Int?
        var Limit: Int?
        static let accepted: Set<String> = ["ProjectIds", "Offset", "Limit"]
    }
}
