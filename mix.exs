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

  @version "0.1.0"

  def project do
    [
      app: :jwks_verify,
      version: @version,
      elixir: "~> 1.14",
      compilers: [:jwks_verify_nif] ++ Mix.compilers(),
      erlc_paths: erlc_paths(Mix.env()),
      elixirc_paths: elixirc_paths(Mix.env()),
      start_permanent: Mix.env() == :prod,
      deps: [],
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
      ],
      docs: [main: "JwksVerify"]
    ]
  end

  def application do
    [extra_applications: [:logger, :crypto, :public_key, :ssl, :inets]]
  end

  defp erlc_paths(:test), do: ["src", "test/erl", "demo"]
  defp erlc_paths(_), do: ["src"]

  defp elixirc_paths(:test), do: ["lib", "test/support"]
  defp elixirc_paths(_), do: ["lib"]
end
