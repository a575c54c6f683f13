#include "harness/cli/validators.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iostream>
#include <optional>

#include "base/text.h"
#include "harness/cli/suggest.h"

namespace tidemark::cli {
namespace {

// The value as a finite double, or nullopt for text that is not one number.
std::optional<double> FiniteNumber(const std::string& text) {
  double d = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, d);
  if (ec != std::errc() || p != end || !std::isfinite(d)) return std::nullopt;
  return d;
}

CLI::Validator NumberAboveZero(bool strict, const std::string& name) {
  const std::string want = strict ? "> 0" : ">= 0";
  return CLI::Validator(
      [strict, want](std::string& value) -> std::string {
        auto d = FiniteNumber(value);
        if (!d || (strict ? *d <= 0 : *d < 0))
          return "must be a number " + want + ", got '" + Printable(value, 40) + "'";
        return "";
      },
      "NUMBER " + want, name);
}

// Every flag of `app` and of its subcommands, as typed ("--concurrency", "-q").
void CollectFlags(const CLI::App& app, std::vector<std::string>* out) {
  for (const CLI::Option* opt : app.get_options()) {
    for (const std::string& l : opt->get_lnames()) out->push_back("--" + l);
    for (const std::string& s : opt->get_snames()) out->push_back("-" + s);
  }
  for (const CLI::App* sub : app.get_subcommands({})) CollectFlags(*sub, out);
}

// The subcommand the user named (the deepest parsed one), or the app itself.
const CLI::App* GivenCommand(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands({}))
    if (sub->parsed()) return GivenCommand(*sub);
  return &app;
}

void SuggestFlags(const CLI::App& app, const std::vector<std::string>& extras) {
  std::vector<std::string> flags;
  CollectFlags(*GivenCommand(app), &flags);
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
  for (const std::string& extra : extras) {
    std::string given = extra.substr(0, extra.find('='));
    bool flag = given.rfind("-", 0) == 0;
    std::string hint = DidYouMean(given, flag ? flags : commands);
    if (!hint.empty())
      std::cerr << (flag ? "unknown flag " : "unknown command ") << Printable(given, 60) << hint
                << "\n";
  }
}

}  // namespace

CLI::Validator PositiveNumber() { return NumberAboveZero(true, "POSITIVE"); }
CLI::Validator NonNegativeNumber() { return NumberAboveZero(false, "NONNEGATIVE"); }

int ParseCommandLine(CLI::App& app, int argc, char** argv) {
  // CLI11 reports a mistyped command as "A subcommand is required"; name it and suggest.
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
  if (argc > 1 && argv[1][0] != '-' &&
      std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
    std::cerr << "tidemark: unknown command '" << Printable(argv[1], 60) << "'"
              << DidYouMean(argv[1], commands) << "; the commands are: " << JoinChoices(commands)
              << "\n(exit 254: bad usage; see tidemark --help)\n";
    return 254;
  }
  try {
    app.parse(argc, argv);
    return -1;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError& e) {
    app.exit(e);
    SuggestFlags(app, app.remaining(/*recurse=*/true));
  } catch (const CLI::ParseError& e) {
    app.exit(e);
  }
  std::cerr << "(exit 254: bad usage; see tidemark --help)\n";
  return 254;
}

}  // namespace tidemark::cli
