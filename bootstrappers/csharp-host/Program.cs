// cuttle-csharp-host: runs a C# script (.csx) after cuttle's C# bootstrap, with Roslyn scripting, the way
// dotnet-script runs it. Usage: dotnet cuttle-csharp-host.dll BOOTSTRAP.csx SCRIPT.csx [ARGS...]
// Tested by tests/bootstrappers/csharp_test.cpp
//
// Design notes:
// - The bootstrap is the first submission and the script its continuation (Script.ContinueWith), so the
//   script sees the bootstrap's members (OctopusParameters, SetVariable, Octopus...) as its own, and may
//   shadow any of them with its own declarations. Both are compiled before either runs: a script that does
//   not compile never reads the variables channel.
// - Real .csx semantics: top-level statements and members, `#load "X.csx"` resolved against the including
//   file's directory, then the script's directory, then the bootstrap's directory (where cuttle writes the
//   C# script modules), and `#r "path.dll"` or `#r "AssemblyName"`. dotnet-script's default imports and
//   every assembly of the running .NET runtime are referenced, as dotnet-script does. `#r "nuget: ..."` and
//   `#load "nuget: ..."` are compile errors that say NuGet packages are not restored.
// - Exit code: an int the script returns, else Environment.ExitCode (0 unless the script set it); 1 for a
//   compile error (each error printed as `path(line,col): error CSxxxx: message`) or an uncaught exception;
//   2 when the host cannot start (usage, unreadable file). Environment.Exit in the script exits at once.
// - stdout and stderr are UTF-8 whatever the locale says, as Octopus reads them.

using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;

namespace Cuttle.CSharpHost
{
    /// <summary>The globals of a script: dotnet-script's <c>Args</c>, the script's arguments.</summary>
    public sealed class ScriptGlobals
    {
        public ScriptGlobals(IList<string> args)
        {
            Args = args;
        }

        /// <summary>The script's arguments (without the script path), as in dotnet-script.</summary>
        public IList<string> Args { get; }
    }

    /// <summary>
    /// Resolves <c>#r</c> like the default script resolver, except that a NuGet reference resolves to nothing,
    /// so Roslyn reports it where it is written; <see cref="Program"/> rewrites that error's message.
    /// </summary>
    sealed class NoNuGetMetadataResolver : MetadataReferenceResolver
    {
        readonly MetadataReferenceResolver inner_;

        public NoNuGetMetadataResolver(MetadataReferenceResolver inner)
        {
            inner_ = inner;
        }

        public override ImmutableArray<PortableExecutableReference> ResolveReference(
            string reference, string baseFilePath, MetadataReferenceProperties properties)
        {
            if (Program.IsNuGetReference(reference))
                return ImmutableArray<PortableExecutableReference>.Empty;
            return inner_.ResolveReference(reference, baseFilePath, properties);
        }

        public override bool ResolveMissingAssemblies => inner_.ResolveMissingAssemblies;

        public override PortableExecutableReference ResolveMissingAssembly(
            MetadataReference definition, AssemblyIdentity referenceIdentity) =>
            inner_.ResolveMissingAssembly(definition, referenceIdentity);

        public override bool Equals(object other) =>
            other is NoNuGetMetadataResolver o && inner_.Equals(o.inner_);

        public override int GetHashCode() => inner_.GetHashCode();
    }

    static class Program
    {
        // dotnet-script's default imports (ScriptCompiler.ImportedNamespaces); "System.Console" is a type, so
        // WriteLine(...) works unqualified, as in dotnet-script.
        static readonly string[] Imports =
        {
            "System",
            "System.IO",
            "System.Collections.Generic",
            "System.Console",
            "System.Diagnostics",
            "System.Dynamic",
            "System.Linq",
            "System.Linq.Expressions",
            "System.Text",
            "System.Threading.Tasks",
        };

        const int CompileOrRuntimeError = 1;
        const int CannotStart = 2;

        internal static bool IsNuGetReference(string reference) =>
            reference.TrimStart().StartsWith("nuget:", StringComparison.OrdinalIgnoreCase);

        static async Task<int> Main(string[] argv)
        {
            var utf8 = new UTF8Encoding(false);
            Console.OutputEncoding = utf8;
            if (argv.Length < 2)
            {
                Console.Error.WriteLine(
                    "usage: dotnet cuttle-csharp-host.dll BOOTSTRAP.csx SCRIPT.csx [ARGS...]");
                return CannotStart;
            }
            var bootstrapPath = Path.GetFullPath(argv[0]);
            var scriptPath = Path.GetFullPath(argv[1]);
            var bootstrapText = ReadSource(argv[0], bootstrapPath);
            var scriptText = ReadSource(argv[1], scriptPath);
            if (bootstrapText == null || scriptText == null)
                return CannotStart;

            var options = MakeOptions(Path.GetDirectoryName(scriptPath), Path.GetDirectoryName(bootstrapPath));
            var bootstrap = CSharpScript.Create(bootstrapText, options.WithFilePath(bootstrapPath),
                                                typeof(ScriptGlobals));
            var script = bootstrap.ContinueWith(scriptText, options.WithFilePath(scriptPath));

            if (ReportErrors(bootstrap.Compile()))
            {
                Console.Error.WriteLine("cuttle: the C# bootstrap does not compile with this .NET");
                return CannotStart;
            }
            if (ReportErrors(script.Compile()))
                return CompileOrRuntimeError;

            var globals = new ScriptGlobals(argv.Skip(2).ToList());
            var state = await script.RunAsync(globals, _ => true);
            if (state.Exception != null)
            {
                Console.Out.Flush();
                Console.Error.WriteLine("Unhandled exception. " + WithoutHostFrames(state.Exception.ToString()));
                return CompileOrRuntimeError;
            }
            Console.Out.Flush();
            return state.ReturnValue is int code ? code : Environment.ExitCode;
        }

        // The exception as .NET prints it, without the frames of Roslyn's script runner below the script's own
        // (and the "End of stack trace" line that leads to them), so the trace ends in the script.
        static string WithoutHostFrames(string text)
        {
            var lines = text.Split('\n').ToList();
            for (var i = lines.Count - 1; i >= 0; --i)
            {
                var line = lines[i].Trim();
                if (line.StartsWith("at Microsoft.CodeAnalysis.Scripting.", StringComparison.Ordinal) ||
                    (line.StartsWith("--- End of stack trace", StringComparison.Ordinal) &&
                     (i + 1 == lines.Count || lines[i + 1].Trim().StartsWith("at Microsoft.CodeAnalysis.Scripting."))))
                    lines.RemoveAt(i);
            }
            return string.Join("\n", lines);
        }

        static string ReadSource(string shown, string path)
        {
            try
            {
                // UTF-8 unless a byte order mark says otherwise; invalid bytes become U+FFFD.
                return File.ReadAllText(path, Encoding.UTF8);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"cuttle: cannot open the script '{shown}': {e.Message}");
                return null;
            }
        }

        static ScriptOptions MakeOptions(string scriptDirectory, string bootstrapDirectory)
        {
            // Every managed assembly of the runtime (Microsoft.NETCore.App), as a dotnet-script project
            // references the whole shared framework; Roslyn reads their metadata lazily.
            var runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location);
            var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Where(p => string.Equals(Path.GetDirectoryName(p), runtimeDirectory, StringComparison.Ordinal))
                .Select(p => MetadataReference.CreateFromFile(p));
            var searchPaths = ImmutableArray.Create(scriptDirectory, bootstrapDirectory);
            return ScriptOptions.Default
                .WithReferences(platform)
                .WithImports(Imports)
                .WithLanguageVersion(LanguageVersion.Latest)
                .WithSourceResolver(new SourceFileResolver(searchPaths, scriptDirectory))
                .WithMetadataResolver(new NoNuGetMetadataResolver(
                    ScriptMetadataResolver.Default.WithBaseDirectory(scriptDirectory)))
                .WithEmitDebugInformation(true)
                .WithFileEncoding(Encoding.UTF8);
        }

        /// Prints every error as `path(line,col): error CSxxxx: message`; true when there was one.
        static bool ReportErrors(ImmutableArray<Diagnostic> diagnostics)
        {
            var failed = false;
            foreach (var d in diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error))
            {
                failed = true;
                Console.Error.WriteLine(Describe(d));
            }
            return failed;
        }

        static string Describe(Diagnostic d)
        {
            var location = d.Location;
            if (location.IsInSource)
            {
                var text = location.SourceTree.GetText().ToString(location.SourceSpan);
                var quote = text.IndexOf('"');
                if (quote >= 0 && IsNuGetReference(text.Substring(quote + 1)))
                {
                    var span = location.GetMappedLineSpan();
                    return $"{span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): " +
                           $"error {d.Id}: {text.Trim()}: NuGet package references are not supported; cuttle " +
                           "does not restore packages at deploy time. Put the assembly beside the script and " +
                           "reference it with #r \"Name.dll\"";
                }
            }
            return CSharpDiagnosticFormatter.Instance.Format(d);
        }
    }
}
