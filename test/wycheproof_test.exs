# Guards issue 10's conformance claim: every case of Project Wycheproof's JOSE
# vectors gets Wycheproof's answer from key_set/1 + verify_jws/3, and every case
# out of scope (JWE, the JSON serialization, HMAC and `oct` keys, RSA under 2048
# bits) is refused. The group's key becomes the JWKS and the token's own `alg`
# becomes `:algs`, so a key's `alg`, `use` and `key_ops` are enforced by the
# library, never by this test.
#
# The vectors stay beside the checkout, in ../shared/vectors (or the folder
# named by JWKS_VERIFY_VECTORS); where they are absent the test is skipped.
defmodule JwksVerify.WycheproofTest do
  use ExUnit.Case, async: true

  @vectors System.get_env("JWKS_VERIFY_VECTORS") || Path.expand("../shared/vectors", File.cwd!())
  @dir Path.join(@vectors, "wycheproof")
  @files @dir |> Path.join("*.json") |> Path.wildcard() |> Enum.sort()

  if @files == [] do
    IO.puts("wycheproof_test: skipped, no vectors in #{@dir} (set JWKS_VERIFY_VECTORS)")
    @moduletag skip: "no Wycheproof vectors in #{@dir}"
  end

  # Members that only a private JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
  @private_members ~w(d p q dp dq qi k oth)
  @supported ~w(RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA)

  # Out of scope: what a valid case of each kind is refused with. Invalid cases
  # of these kinds may be refused earlier, for their own defect.
  @scope_reasons %{
    jwe: :malformed_token,
    json_serialization: :malformed_token,
    rsa_under_2048: :rsa_key_too_small,
    hmac: :unsupported_alg
  }

  # Where a Wycheproof "valid" contradicts a check issue 10 demands, the case
  # must get exactly this reason; each is listed in the output.
  @deviations %{
    {"json_web_signature_test.json", 346} =>
      {:key_alg_mismatch,
       ~s(RFC 7520 Figure 20 is PS384, but the vector's key says "alg": "PS256")},
    {"json_web_signature_test.json", 350} =>
      {:key_alg_mismatch,
       ~s(RFC 7520 Figure 20 is PS384, but the vector's key says "alg": "PS256")}
  }

  describe "Wycheproof JOSE vectors" do
    test "each file holds the cases it declares" do
      counts =
        for file <- @files do
          doc = read(file)
          n = doc["testGroups"] |> Enum.map(&length(&1["tests"])) |> Enum.sum()
          assert n == doc["numberOfTests"], "#{Path.basename(file)}: #{n} cases"
          n
        end

      assert Enum.sum(counts) == 649
    end

    test "every case gets Wycheproof's answer; out of scope is refused" do
      results = Enum.flat_map(@files, &run_file/1)
      IO.puts("\n" <> table(results))
      kinds = for(%{outcome: :out_of_scope, scope: s} <- results, do: s) |> Enum.frequencies()

      IO.puts(
        "out of scope, by kind: " <> Enum.map_join(kinds, ", ", fn {k, n} -> "#{k} #{n}" end)
      )

      for %{outcome: outcome} = r <- results, outcome in [:acceptable, :deviation] do
        IO.puts("#{outcome}: #{describe(r)}")
      end

      unexpected = for %{outcome: :unexpected} = r <- results, do: describe(r)

      assert unexpected == [],
             "#{length(unexpected)} unexpected results:\n" <> Enum.join(unexpected, "\n")
    end
  end

  ## Running the cases

  defp run_file(path) do
    doc = read(path)
    file = Path.basename(path)

    for group <- doc["testGroups"], test <- group["tests"] do
      token = test["jws"] || test["jwe"]
      got = answer(group, token)
      c = %{file: file, test: test, token: token, scope: scope(file, group, test, token)}
      Map.merge(c, %{got: got, outcome: outcome(c, got)})
    end
  end

  defp answer(group, token) do
    token = if is_binary(token), do: token, else: IO.iodata_to_binary(:jiffy.encode(token))

    with {:ok, key_set} <- JwksVerify.key_set(:jiffy.encode(jwks(group))) do
      JwksVerify.verify_jws(token, key_set, algs(token))
    end
  rescue
    # Untrusted input must never raise: any exception is an unexpected result.
    e -> {:raised, Exception.message(e)}
  end

  # Wycheproof gives the public key where it has one (its key_ops then say
  # "verify"); otherwise the private key less its private members.
  defp jwks(group) do
    case group["public"] || group["private"] do
      %{"keys" => keys} -> %{"keys" => Enum.map(keys, &public/1)}
      key -> %{"keys" => [public(key)]}
    end
  end

  defp public(jwk), do: Map.drop(jwk, @private_members)

  # The token's own alg when we implement it; otherwise the default, which the
  # library must refuse the token under anyway (HS256, none, a broken header).
  defp algs(token) do
    case header_alg(token) do
      alg when alg in @supported -> [algs: [alg]]
      _ -> []
    end
  end

  defp header_alg(token) do
    with [h | _] <- String.split(token, "."),
         {:ok, json} <- Base.url_decode64(h, padding: false),
         {:ok, %{"alg" => alg}} <- decode(json) do
      alg
    else
      _ -> nil
    end
  end

  defp decode(json) do
    {:ok, :jiffy.decode(json, [:return_maps])}
  catch
    _, _ -> :error
  end

  defp scope(file, group, test, token) do
    keys = jwks(group)["keys"]

    cond do
      file == "json_web_encryption_test.json" or Map.has_key?(test, "jwe") -> :jwe
      not is_binary(token) or String.starts_with?(token, "{") -> :json_serialization
      Enum.any?(keys, &small_rsa?/1) -> :rsa_under_2048
      hmac_alg?(token) or Enum.all?(keys, &(&1["kty"] == "oct")) -> :hmac
      true -> nil
    end
  end

  defp small_rsa?(%{"kty" => "RSA", "n" => n}) do
    n |> Base.url_decode64!(padding: false) |> :binary.decode_unsigned() |> bits() < 2048
  end

  defp small_rsa?(_), do: false

  defp bits(0), do: 0
  defp bits(n), do: length(Integer.digits(n, 2))

  defp hmac_alg?(token), do: match?("HS" <> _, header_alg(token))

  defp outcome(_case, {:raised, _}), do: :unexpected

  defp outcome(%{file: file, test: %{"tcId" => id}}, got)
       when is_map_key(@deviations, {file, id}) do
    {reason, _why} = @deviations[{file, id}]
    if got == {:error, reason}, do: :deviation, else: :unexpected
  end

  # Out of scope: never accepted. A case Wycheproof calls valid must be refused
  # for its kind, unless its header can't even be read (tc 372's "?").
  defp outcome(%{scope: scope, test: test, token: token}, got) when scope != nil do
    cond do
      match?({:ok, _}, got) -> :unexpected
      test["result"] == "invalid" -> :out_of_scope
      got == {:error, @scope_reasons[scope]} -> :out_of_scope
      header_alg(token) == nil -> :out_of_scope
      true -> :unexpected
    end
  end

  defp outcome(%{test: %{"result" => "acceptable"}}, _got), do: :acceptable
  defp outcome(%{test: %{"result" => "valid"}}, {:ok, _}), do: :as_expected
  defp outcome(%{test: %{"result" => "invalid"}}, {:error, _}), do: :as_expected
  defp outcome(_case, _got), do: :unexpected

  ## Reporting

  @columns [:as_expected, :unexpected, :acceptable, :deviation, :out_of_scope]

  defp table(results) do
    rows =
      results
      |> Enum.group_by(& &1.file)
      |> Enum.sort()
      |> Enum.map(fn {file, rs} -> row(file, rs) end)

    Enum.join(
      [
        "Wycheproof JOSE vectors through key_set/1 + verify_jws/3:",
        "| file | cases | as expected | unexpected | acceptable | deviation | out of scope |",
        "|---|--:|--:|--:|--:|--:|--:|"
        | rows
      ] ++ [row("total", results)],
      "\n"
    )
  end

  defp row(name, results) do
    freq = Enum.frequencies_by(results, & &1.outcome)
    cells = [length(results) | Enum.map(@columns, &Map.get(freq, &1, 0))]
    "| #{name} | " <> Enum.map_join(cells, " | ", &to_string/1) <> " |"
  end

  defp describe(%{file: file, test: t, scope: scope, got: got}) do
    scope =
      case @deviations[{file, t["tcId"]}] do
        {_, why} -> " (deviation: #{why})"
        nil when scope != nil -> " (out of scope: #{scope})"
        nil -> ""
      end

    "#{file} tcId #{t["tcId"]} #{inspect(t["comment"])}: expected #{t["result"]}#{scope}, " <>
      "got #{format(got)}"
  end

  defp format({:ok, %{header: h}}), do: "{:ok, header #{:jiffy.encode(h)}}"
  defp format(other), do: inspect(other)

  defp read(path), do: path |> File.read!() |> :jiffy.decode([:return_maps])
end
