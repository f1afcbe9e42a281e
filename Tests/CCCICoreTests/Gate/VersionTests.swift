import Testing
@testable import CCCICore

@Suite struct Versions {
    @Test(arguments: [
        "10.7.1+26.6.2", "5.0.3+27.0.1-fpm", "5.1.1+v3.6.15", "1.11.0+1.29.0", "1.2.0+2024-05-01", "1.0.0+20240501",
        "1.14.1-rootless_1", "2.0.0+15-alpine", "0.1.0+0.9",
    ])
    func parses(_ s: String) { #expect(RecipeVersion(s) != nil) }

    @Test(arguments: [
        "", "latest", "10.7+26.6.2", "10.7.1.2+1", "a.b.c+1", "1.0.0+", "1.0.0+abc", "01.0.0+1", "1.0.0",
        "1.0.0+1/../x", "v1.0.0+1", "1.0.0+1 ", "1.0.0+RELEASE.2024", "_1", "1.0.0+1;rm",
    ])
    func refuses(_ s: String) { #expect(RecipeVersion(s) == nil) }

    func sorted(_ list: [String]) -> [String] {
        list.compactMap(RecipeVersion.init).sorted { RecipeVersion.compare($0, $1) < 0 }.map(\.text)
    }

    @Test func ordersByRecipeSemverNotText() {
        #expect(sorted(["10.10.0+1.0", "10.9.0+1.0", "9.0.0+2.0", "10.9.1+1.0"]) == ["9.0.0+2.0", "10.9.0+1.0", "10.9.1+1.0", "10.10.0+1.0"])
        #expect(sorted(["1.0.0+1.10.0", "1.0.0+1.9.0"]) == ["1.0.0+1.9.0", "1.0.0+1.10.0"])
        #expect(sorted(["1.0.0+26.0", "1.14.1-rootless_2", "1.14.1-rootless_1"]) == ["1.14.1-rootless_1", "1.14.1-rootless_2", "1.0.0+26.0"])
    }

    func bumps(_ a: String, _ b: String) -> (Bump, Bump) {
        let x = RecipeVersion(a)!, y = RecipeVersion(b)!
        return (x.recipeBump(to: y), x.upstreamBump(to: y))
    }

    @Test func classifiesBothSides() {
        #expect(bumps("10.7.1+26.6.2", "10.7.9+26.6.2") == (.patch, .none))
        #expect(bumps("10.7.1+26.6.2", "10.8.0+26.7.0") == (.minor, .minor))
        #expect(bumps("10.7.1+26.6.2", "10.8.0+27.0.0") == (.minor, .major))
        #expect(bumps("10.7.1+26.6.2", "11.0.0+26.6.2") == (.major, .none))
        #expect(bumps("5.1.1+v3.6.15", "5.1.2+v3.6.16") == (.patch, .patch))
        #expect(bumps("5.0.3+27.0.1-fpm", "5.0.4+27.0.1-apache") == (.patch, .variant))
        #expect(bumps("1.0.0+0.9.0", "1.1.0+0.10.0") == (.minor, .major))
        #expect(bumps("1.0.0+2024-05-01", "1.1.0+2025-01-01") == (.minor, .date))
        #expect(bumps("1.14.1-rootless_1", "1.0.0+1.15.0") == (.unknown, .variant))
    }
}
