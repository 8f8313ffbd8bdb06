#!/usr/bin/env bash
# NativeAOT against the JIT, from the packed packages, as a user gets them.
#   bash bench/aot-compare.sh [steps]     (default 40 training steps of the workshop CNN, batch 128)
# Packs Kiln and Kiln.Datasets into a local feed, copies bench/AotCompare and the workshop CNN's declaration into a fresh
# folder outside the repository, publishes that app three ways and runs each:
#   jit            dotnet publish (framework-dependent; the JIT picks the CPU's instruction sets at run time)
#   aot            PublishAot with nothing else set: the Kiln package chooses IlcInstructionSet=x86-64-v3
#   aot-sdk-base   PublishAot with the package's choice switched off (KilnAotInstructionSet=false): the SDK's baseline
# then runs the JIT build twice more with vector units switched off (DOTNET_EnableAVX512=0, the .NET 10 name, and DOTNET_EnableAVX512F=0; DOTNET_EnableAVX2=0 and
# DOTNET_EnableFMA=0), standing in for CPUs without them,
# and prints a table of the time per step (median of the second half of the steps) and hashes of the trained weights and the predictions (same hash = same bits).
# Needs linux-x64 with AVX2 and FMA (the aot build refuses to start without them). Output: artifacts/aot-compare/.
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-40}
out=$PWD/artifacts/aot-compare
rm -rf "$out" && mkdir -p "$out"
app=$(mktemp -d /tmp/kiln-aot-compare-XXXXXX)
trap 'rm -rf "$app"' EXIT

dotnet pack src/Dsl -c Release -o "$app/feed" -v q -nologo
dotnet pack src/Datasets -c Release -o "$app/feed" -v q -nologo
cache=$(dotnet nuget locals global-packages -l | sed 's/^global-packages: //')
cp bench/AotCompare/Program.cs examples/Mnist/MnistCnn.cs "$app/"
cat > "$app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><clear /><add key="local" value="$app/feed" /><add key="nuget" value="https://api.nuget.org/v3/index.json" /></packageSources></configuration>
XML
cat > "$app/AotCompare.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <InvariantGlobalization>true</InvariantGlobalization>
    <!-- Kiln restores fresh each run; everything else (the NativeAOT compiler among it) comes from the usual cache. -->
    <RestorePackagesPath>$app/packages</RestorePackagesPath>
    <RestoreAdditionalProjectFallbackFolders>$cache</RestoreAdditionalProjectFallbackFolders>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Kiln" Version="*-*" />
    <PackageReference Include="Kiln.Datasets" Version="*-*" />
  </ItemGroup>
</Project>
XML

publish() { # name, extra publish arguments...
  local name=$1; shift
  dotnet publish "$app/AotCompare.csproj" -c Release -o "$app/out/$name" -v q -nologo "$@" > "$out/publish-$name.log" 2>&1 \
    || { cat "$out/publish-$name.log"; exit 1; }
}
publish jit
publish aot -r linux-x64 -p:PublishAot=true
publish aot-sdk-base -r linux-x64 -p:PublishAot=true -p:KilnAotInstructionSet=false

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }
declare -A bits
row() { # name, instruction-set description, binary, environment (VAR=value ...)
  local name=$1 isa=$2 binary=$3; shift 3
  local line weights predictions same=""
  line=$(env "$@" "$app/out/$binary/AotCompare" "$steps" | tee "$out/run-$name.log" | grep '^result ')
  weights=$(field weights "$line"); predictions=$(field predictions "$line")
  for other in "${!bits[@]}"; do [[ ${bits[$other]} == "$weights $predictions" ]] && same+="${same:+, }$other"; done
  bits[$name]="$weights $predictions"
  echo "| $name | $isa | $(field avx2 "$line"), $(field fma "$line"), $(field avx512 "$line") | $(field first_ms "$line") | $(field median_ms "$line") | $weights | $predictions | $(field accuracy "$line") | ${same:-none} |"
}
{
  echo "| build | instruction set | AVX2, FMA, AVX-512F | first step (ms) | ms/step, median | weights sha256 | predictions sha256 | test accuracy | same bits as |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
  row jit "the CPU's, at run time" jit
  row aot "x86-64-v3 (Kiln's default)" aot
  row aot-sdk-base "the SDK's baseline" aot-sdk-base
  # The JIT told to ignore vector units, as on a CPU without them (DOTNET_Enable* only lower what the JIT uses).
  row jit-no-avx512 "the CPU's less AVX-512" jit DOTNET_EnableAVX512=0 DOTNET_EnableAVX512F=0
  row jit-no-avx2-fma "the CPU's less AVX2 and FMA" jit DOTNET_EnableAVX2=0 DOTNET_EnableFMA=0
} | tee "$out/table.md"
echo
# A CPU without AVX2/FMA cannot be simulated here; the check that refuses to start there is in the binary.
echo "aot start-up check on a CPU without x86-64-v3: $(grep -a -o -m1 'The required instruction sets are not supported by the current CPU.' "$app/out/aot/AotCompare" || echo 'message not found')"
echo "$steps steps of batch 128 on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; table in $out/table.md"
