defmodule Mix.Tasks.Compile.JwksVerifyNif do
  @moduledoc """
  Builds `priv/jwks_verify_nif.so` with `make`.

  Exports the variables elixir_make would (`ERTS_INCLUDE_DIR`, `MIX_APP_PATH`),
  so switching to elixir_make later is a one-line change in `project/0`.
  """
  use Mix.Task.Compiler

  @impl true
  def run(_args) do
    erts_include =
      Path.join([to_string(:code.root_dir()), "erts-#{:erlang.system_info(:version)}", "include"])

    env = [
      {"ERTS_INCLUDE_DIR", System.get_env("ERTS_INCLUDE_DIR", erts_include)},
      {"MIX_APP_PATH", Mix.Project.app_path()}
    ]

    case System.cmd("make", ["all"], env: env, stderr_to_stdout: true) do
      {output, 0} ->
        if output =~ " CC " or output =~ " LD ", do: Mix.shell().info(output)
        # priv/ may have been created by this build: let mix link it into _build.
        Mix.Project.build_structure()
        {:ok, []}

      {output, status} ->
        Mix.shell().error(output)
        Mix.raise("make exited with status #{status}")
    end
  end
end

defmodule JwksVerify.MixProject do
  use Mix.Project

  # One version and description for both builds: rebar3's application resource is the source.
  {:ok, [{:application, :jwks_verify, props}]} =
    :file.consult(Path.join(__DIR__, "src/jwks_verify.app.src"))

  @version to_string(props[:vsn])
  @description to_string(props[:description])
  @source_url "https://github.com/jwks-verify/jwks_verify"

  def project do
    [
      app: :jwks_verify,
      version: @version,
      elixir: "~> 1.14",
      compilers: [:jwks_verify_nif] ++ Mix.compilers(),
      erlc_paths: erlc_paths(Mix.env()),
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      deps: deps(),
      description: @description,
      package: package(),
      source_url: @source_url,
      docs: docs(),
      # Test-only Debian libraries (independent signers, JSON for vectors).
      xref: [
        exclude: [
          :jiffy,
          :jose,
          :jose_jwk,
          :jose_jws,
          :jose_jwt,
          JOSE,
          JOSE.JWK,
          JOSE.JWT,
          JOSE.JWS
        ]
      ]
    ]
  end

  def application do
    [extra_applications: [:logger, :crypto, :public_key, :ssl, :inets]]
  end

  # Plug is optional: JwksVerify.Plug compiles and loads without it. Declared, it makes a
  # consuming Phoenix app compile plug before jwks_verify and holds plug to "~> 1.10". No
  # `only:`: a dependency limited to :dev/:test is left out of the Hex package's requirements,
  # and the consuming app would see none of this; `optional: true` alone is the usual form
  # (Phoenix's own optional deps read the same), and pulls plug into no app that lacks it.
  #
  # Both are declared only where Hex is loaded: Debian's Elixir has no Hex, and hex.pm is not
  # reachable everywhere this builds. A declared dependency must be fetched before
  # `mix compile` runs, optional or not, so JWKS_VERIFY_NO_HEX_DEPS=1 leaves them out even
  # with Hex installed (offline, or no `mix deps.get` wanted).
  defp deps do
    cond do
      System.get_env("JWKS_VERIFY_NO_HEX_DEPS") not in [nil, "", "0"] ->
        []

      Code.ensure_loaded?(Hex) ->
        [{:plug, "~> 1.10", optional: true}, {:ex_doc, "~> 0.30", only: :dev, runtime: false}]

      # No Hex, but the app building us resolves version requirements some
      # other way (an offline mirror, a vendoring SCM): declare plug all the
      # same, so Mix compiles it before us and @behaviour Plug is declared.
      Enum.any?(Mix.SCM.available(), &(&1.accepts_options(:plug, []) != nil)) ->
        [{:plug, "~> 1.10", optional: true}]

      true ->
        []
    end
  end

  # Sources only: priv/ is built on the user's machine by make (mix) or the pre_hook (rebar3).
  # No demo, bench, fuzz or test.
  defp package do
    [
      licenses: ["Apache-2.0"],
      links: %{"GitHub" => @source_url, "Security" => @source_url <> "/blob/main/SECURITY.md"},
      files: ~w(c_src src lib Makefile rebar.config mix.exs README.md LICENSE SECURITY.md)
    ]
  end

  defp docs do
    [
      main: "readme",
      extras: ["README.md", "SECURITY.md"],
      source_ref: "v#{@version}"
    ]
  end

  defp erlc_paths(:test), do: ["src", "test/erl", "demo"]
  defp erlc_paths(_), do: ["src"]

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]
end
