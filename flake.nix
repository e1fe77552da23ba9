{
  description = "repro: reproducible builds and test runs in a namespace + seccomp sandbox";

  # Inputs cannot be fetched on the project's CI machines; CI checks that this file
  # parses (nix-instantiate --parse flake.nix). On a machine with Nix, `nix develop`
  # gives the toolchain and `nix flake check` runs the test suite.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs = { self, nixpkgs }:
    let
      # x86_64 only: the launcher's seccomp policy covers the x86_64, i386 and x32 ABIs
      # and repro-sandbox refuses to start on any other architecture.
      systems = [ "x86_64-linux" ];
      forAll = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      deps = pkgs: with pkgs; [ libseccomp libarchive openssl sqlite pkg-config gnumake gcc ];
    in {
      devShells = forAll (pkgs: {
        default = pkgs.mkShell {
          packages = [ pkgs.swift pkgs.swiftpm pkgs.swiftPackages.Foundation pkgs.bubblewrap pkgs.python3 ]
            ++ deps pkgs;
          shellHook = ''
            echo "repro dev shell: swift build; make -C sandbox; swift test"
          '';
        };
      });

      checks = forAll (pkgs: {
        # The launcher alone builds with the C compiler; its help and policy print.
        launcher = pkgs.stdenv.mkDerivation {
          name = "repro-sandbox-check";
          src = ./sandbox;
          nativeBuildInputs = [ pkgs.pkg-config ];
          buildInputs = [ pkgs.libseccomp ];
          buildPhase = "make";
          doCheck = true;
          checkPhase = ''
            ./build/repro-sandbox --help >/dev/null
            ./build/repro-sandbox --print-policy | diff - POLICY.md
          '';
          installPhase = "mkdir -p $out/bin && cp build/repro-sandbox $out/bin/";
        };
        # The Swift test suite. Namespaces are unavailable inside the Nix build
        # sandbox, so the sandbox suites need `--option sandbox false` (or run
        # scripts/test outside Nix).
        tests = pkgs.stdenv.mkDerivation {
          name = "repro-tests";
          src = ./.;
          nativeBuildInputs = [ pkgs.swift pkgs.swiftpm pkgs.pkg-config ];
          buildInputs = [ pkgs.swiftPackages.Foundation ] ++ deps pkgs;
          buildPhase = "swift build --build-tests";
          doCheck = true;
          checkPhase = "swift test --skip-build";
          installPhase = "touch $out";
        };
      });
    };
}
