# Guards the scheduler switch (README "Scheduler usage"): by default a
# verification of a small token against a set without RSA keys over 4096 bits
# runs on the calling normal scheduler; `verify_scheduler: :dirty` (the
# application environment, read when the NIF loads, or verify_scheduler/1)
# sends every verification to a dirty CPU scheduler. Which scheduler did the
# work is read from :erlang.statistics(:scheduler_wall_time_all), whose
# entries past the normal schedulers are the dirty CPU ones. Not async: the
# switch is VM-wide, and the wall-time figures count every process.
defmodule JwksVerify.SchedulerTest do
  use ExUnit.Case, async: false

  import JwksVerify.TokenHelpers

  @now 1_700_000_000

  setup_all do
    key = rsa_key(2048)
    {:ok, ks} = JwksVerify.key_set(jwks_json([public_jwk(key, %{"kid" => "k"})]))
    token = token(key, "RS256", %{"sub" => "alice", "exp" => @now + 60}, %{"kid" => "k"})
    %{ks: ks, token: token, opts: JwksVerify.options(now: @now)}
  end

  setup do
    on_exit(fn -> JwksVerify.verify_scheduler(:auto) end)
  end

  # Active time of the normal and of the dirty CPU schedulers while fun runs.
  defp active_us(fun) do
    :erlang.system_flag(:scheduler_wall_time, true)
    before = :erlang.statistics(:scheduler_wall_time_all)
    fun.()
    after_ = :erlang.statistics(:scheduler_wall_time_all)
    :erlang.system_flag(:scheduler_wall_time, false)
    normal = :erlang.system_info(:schedulers)
    dirty = :erlang.system_info(:dirty_cpu_schedulers)

    active =
      for {{id, a1, _}, {id, a0, _}} <- Enum.zip(Enum.sort(after_), Enum.sort(before)),
          into: %{},
          do: {id, :erlang.convert_time_unit(a1 - a0, :native, :microsecond)}

    sum = fn ids -> ids |> Enum.map(&Map.get(active, &1, 0)) |> Enum.sum() end
    {sum.(1..normal), sum.((normal + 1)..(normal + dirty))}
  end

  defp verify_many(ctx, n) do
    for _ <- 1..n, do: {:ok, _} = JwksVerify.verify(ctx.token, ctx.ks, ctx.opts)
  end

  # Other work of the VM (a large heap's garbage collection, a key set parsed
  # by a cache) may use a dirty scheduler meanwhile: the two modes are
  # compared with each other, not with zero.
  test "the default :auto keeps a small RS256 verification off the dirty schedulers; :dirty moves it there",
       ctx do
    assert JwksVerify.verify_scheduler() == :auto
    {_normal, auto} = active_us(fn -> verify_many(ctx, 2000) end)

    assert JwksVerify.verify_scheduler(:dirty) == :auto
    assert JwksVerify.verify_scheduler() == :dirty
    {_normal, dirty} = active_us(fn -> verify_many(ctx, 2000) end)
    # the answer is the same either way
    assert {:ok, %{"sub" => "alice"}} = JwksVerify.verify(ctx.token, ctx.ks, ctx.opts)

    assert JwksVerify.verify_scheduler(:auto) == :dirty
    {_normal, back} = active_us(fn -> verify_many(ctx, 2000) end)

    # 2000 RS256 verifications are 35 ms of work or more
    assert dirty > 20_000, "only #{dirty} µs on dirty CPU schedulers with :dirty"
    assert auto < dirty / 4, "#{auto} µs on dirty CPU schedulers with :auto, #{dirty} with :dirty"
    assert back < dirty / 4, "#{back} µs on dirty CPU schedulers back in :auto"
  end

  test "a token over 8 KiB goes to a dirty scheduler in :auto", ctx do
    key = rsa_key(2048)
    {:ok, ks} = JwksVerify.key_set(jwks_json([public_jwk(key, %{"kid" => "k"})]))
    big = token(key, "RS256", %{"exp" => @now + 60, "pad" => String.duplicate("x", 9000)})

    {_normal, dirty} =
      active_us(fn -> for _ <- 1..500, do: {:ok, _} = JwksVerify.verify(big, ks, ctx.opts) end)

    assert dirty > 5_000, "only #{dirty} µs on dirty CPU schedulers"
  end

  test "anything but :auto or :dirty is a caller mistake" do
    for bad <- [:normal, "dirty", nil, 1] do
      assert_raise ArgumentError, ~r/verify_scheduler: expected auto or dirty/, fn ->
        JwksVerify.verify_scheduler(bad)
      end
    end

    # the NIF checks too (a badarg)
    assert_raise ArgumentError, fn -> :jwks_verify_nif.verify_scheduler(:normal) end
    assert JwksVerify.verify_scheduler() == :auto
  end

  # The application environment is read when the NIF loads: a fresh VM with
  # the setting on its command line (as sys.config or config.exs would set it).
  describe "the application environment" do
    for {given, want} <- [{"dirty", "dirty"}, {"auto", "auto"}, {"bogus", "auto"}] do
      test "verify_scheduler #{given} at load: #{want}" do
        ebin = Path.dirname(:code.which(:jwks_verify))

        {out, 0} =
          System.cmd(
            System.find_executable("erl"),
            ~w(-noshell -pa #{ebin} -jwks_verify verify_scheduler #{unquote(given)}
               -eval) ++
              [
                "application:load(jwks_verify), io:format(\"mode=~p~n\", [jwks_verify:verify_scheduler()]), halt()."
              ],
            stderr_to_stdout: true
          )

        assert out =~ "mode=#{unquote(want)}"
        if unquote(given) == "bogus", do: assert(out =~ "must be auto or dirty, got bogus")
      end
    end
  end
end
