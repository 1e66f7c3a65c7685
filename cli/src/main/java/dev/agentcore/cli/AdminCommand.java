package dev.agentcore.cli;

import dev.agentcore.transport.AdminClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "admin", mixinStandardHelpOptions = true, description = "Manages the deployment's admin token.",
        subcommands = AdminCommand.RotateToken.class)
final class AdminCommand {

    @Command(name = "rotate-token", mixinStandardHelpOptions = true,
            description = {"Gives the deployment a new admin token, shown once: every control plane on the same store "
                    + "refuses the old one from then on, and this one ends the admin connections the old one opened (another "
                    + "replica's last until they are next made again).",
                    "The new token replaces the one in --admin-token-file (mode 600) when the old one was read from "
                            + "there; with " + Secrets.ADMIN_TOKEN + " set, update it yourself."})
    static final class RotateToken implements Callable<Integer> {

        @Option(names = "--json", description = "Print JSON: {\"admin_token\"}.")
        boolean json;

        @Mixin
        AdminOptions admin;

        @Override
        public Integer call() throws IOException {
            boolean fromFile = Secrets.fromProcess().fromEnvironment(Secrets.ADMIN_TOKEN).isEmpty();
            String token;
            try (AdminClient client = admin.connect()) {
                token = client.rotateAdminToken().block(Duration.ofSeconds(30));
            }
            if (fromFile) {
                replace(admin.adminTokenFile, token);
            }
            if (json) {
                System.out.println("{\"admin_token\":" + RowFormat.quote(token) + "}");
            } else {
                System.out.println("admin token: " + token);
                System.out.println(fromFile ? "written to " + admin.adminTokenFile + " (mode 600); the old one is refused"
                        : "the old one is refused: update " + Secrets.ADMIN_TOKEN);
            }
            return ExitCodes.OK;
        }

        /** Writes the token beside the file, mode 600, then moves it over the file in one step. */
        private static void replace(Path file, String token) throws IOException {
            Path directory = file.toAbsolutePath().getParent();
            Path written = Files.createTempFile(directory, ".admin-token", ".new",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(written, token + "\n");
            Files.move(written, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
    }
}
