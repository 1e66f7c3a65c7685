package dev.agentcore.transport;

import dev.agentcore.core.control.Workspace;
import java.time.Duration;
import reactor.blockhound.BlockHound;

/**
 * A fresh JVM's first secret, drawn on an event loop: BlockHound installed (with this module's
 * allowances), a control plane started, and a workspace created through the admin route, which
 * the server serves on an event loop. Exits 0 when the workspace was created, 1 when the server
 * failed (for instance, by blocking to seed its random generator there).
 */
public final class FirstSecretProcess {

    private FirstSecretProcess() {
    }

    public static void main(String[] args) {
        BlockHound.install();
        try (ControlPlaneFixture fixture = new ControlPlaneFixture();
             AdminClient admin = fixture.admin()) {
            String identity = admin.createWorkspace(Workspace.named("first")).block(Duration.ofSeconds(20));
            System.out.println("created, identity of " + identity.length() + " characters");
            System.exit(0);
        } catch (RuntimeException failure) {
            failure.printStackTrace();
            System.exit(1);
        }
    }
}
