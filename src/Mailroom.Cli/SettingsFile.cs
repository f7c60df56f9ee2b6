using System.Text.Json;

namespace Mailroom.Cli;

/// <summary>
/// The settings files <c>mailroom serve</c> leaves in its data folder for the admin commands
/// (<c>audit-settings.json</c>, <c>store-settings.json</c>): readable by the owner only, and
/// replaced whole, so a reader never sees half of one. They name key and password files, never
/// what is in them.
/// </summary>
internal static class SettingsFile
{
    public static void Write(string path, string comment, Action<Utf8JsonWriter> writeSections)
    {
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(temporary, options))
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("//", comment);
            writeSections(json);
            json.WriteEndObject();
        }

        File.Move(temporary, path, overwrite: true);
    }
}
