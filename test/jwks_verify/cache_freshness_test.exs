# Guards the key set's clock in the cache process
# (src/jwks_verify_cache_freshness.erl) as pure functions: which TTL a 200 or
# a 304 gives (RFC 9111 §4.3.4: a bare 304 keeps the last one), the stale
# ceiling never shorter than the TTL, fresh/stale/unavailable at the edges,
# static key sets, and the refresh ahead of expiry.
defmodule JwksVerify.CacheFreshnessTest do
  use ExUnit.Case, async: true

  import Bitwise

  @f :jwks_verify_cache_freshness

  defp cfg(opts) do
    :jwks_verify_cache_opts.config(Map.new([jwks_uri: "https://issuer.example/jwks"] ++ opts))
  end

  describe "confirm/5" do
    test "a 200 takes the response's TTL, else the ttl option" do
      c = cfg(ttl: 600_000, stale_ceiling: 86_400_000)

      f = @f.confirm(5_000, 200, 1_000, c, @f.new())
      assert %{ttl: 5_000, confirmed_at: 1_000, expires_at: 6_000} = @f.times(f)
      assert @f.deadlines(f) == {6_000, 1_000 + 86_400_000}

      f = @f.confirm(:undefined, 200, 2_000, c, f)
      assert %{ttl: 600_000, expires_at: 602_000} = @f.times(f)
    end

    test "a 304 without caching headers keeps the last TTL; with them, takes theirs" do
      c = cfg(ttl: 600_000)
      f = @f.confirm(5_000, 200, 0, c, @f.new())

      kept = @f.confirm(:undefined, 304, 10_000, c, f)
      assert %{ttl: 5_000, confirmed_at: 10_000, expires_at: 15_000} = @f.times(kept)

      assert %{ttl: 7_000} = @f.times(@f.confirm(7_000, 304, 10_000, c, f))
      # Nothing to keep yet: the option applies.
      assert %{ttl: 600_000} = @f.times(@f.confirm(:undefined, 304, 0, c, @f.new()))
    end

    test "the key set stays usable until the stale ceiling, never before expiry" do
      f = @f.confirm(60_000, 200, 0, cfg(stale_ceiling: 1_000), @f.new())
      assert @f.deadlines(f) == {60_000, 60_000}

      f = @f.confirm(60_000, 200, 0, cfg(stale_ceiling: 0), @f.new())
      assert @f.deadlines(f) == {60_000, 60_000}
    end
  end

  describe "health/3 and status/3" do
    test "fresh before expiry, stale until the ceiling, then unavailable" do
      assert @f.health(99, 100, 200) == :fresh
      assert @f.health(100, 100, 200) == :stale
      assert @f.health(199, 100, 200) == :stale
      assert @f.health(200, 100, 200) == :unavailable
      assert @f.health(5, 0, 0) == :unavailable
      assert @f.health(-5, 0, 10) == :fresh
      assert @f.health(1 <<< 62, :infinity, :infinity) == :fresh
    end

    test "without a key set, unavailable whatever the clock says" do
      f = @f.confirm(60_000, 200, 0, cfg([]), @f.new())
      assert @f.status(10, true, f) == :fresh
      assert @f.status(10, false, f) == :unavailable
      assert @f.status(10, false, @f.static(0, @f.new())) == :unavailable
    end

    test "a static key set is fresh for ever" do
      f = @f.static(123, @f.new())
      assert @f.deadlines(f) == {:infinity, :infinity}
      assert %{confirmed_at: 123} = @f.times(f)
      assert @f.status(1 <<< 62, true, f) == :fresh
    end
  end

  describe "refresh_in/1" do
    test "refreshes at 75-85 % of the TTL, spread, and at least after 1 ms" do
      f = @f.confirm(100_000, 200, 0, cfg([]), @f.new())
      delays = for _ <- 1..200, do: @f.refresh_in(f)
      assert Enum.all?(delays, &(&1 in 75_000..85_000))
      assert length(Enum.uniq(delays)) > 1

      assert @f.refresh_in(@f.confirm(0, 200, 0, cfg(min_ttl: 0), @f.new())) == 1
    end
  end
end
