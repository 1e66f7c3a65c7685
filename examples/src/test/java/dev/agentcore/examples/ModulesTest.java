package dev.agentcore.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ResolvedModule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The published modules as a user on the module path meets them: each exports its API packages
 * and nothing else, and their module graph resolves from the very jars this build depends on.
 */
class ModulesTest {

    /** Each published module and the packages it exports, exactly. */
    private static final Map<String, Set<String>> EXPORTS = Map.of(
            "dev.agentcore.core", Set.of("dev.agentcore.core", "dev.agentcore.core.agent", "dev.agentcore.core.control"),
            "dev.agentcore.test", Set.of("dev.agentcore.test"),
            "dev.agentcore.transport", Set.of("dev.agentcore.transport"),
            "dev.agentcore.store", Set.of("dev.agentcore.store"));

    /** The modules of this build and every jar on the test class path, as the module path would hold them. */
    private static ModuleFinder modulePath() {
        Path[] entries = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(Path::of)
                .filter(path -> path.toString().endsWith(".jar") || Files.exists(path.resolve("module-info.class")))
                .toArray(Path[]::new);
        return ModuleFinder.of(entries);
    }

    @Test
    void eachPublishedModuleExportsItsApiPackagesOnly() {
        ModuleFinder finder = modulePath();
        EXPORTS.forEach((name, exported) -> {
            ModuleDescriptor descriptor = finder.find(name).orElseThrow(() -> new AssertionError("no module " + name))
                    .descriptor();
            assertThat(descriptor.isAutomatic()).as("%s has a module-info", name).isFalse();
            assertThat(descriptor.exports()).as("%s's exports", name)
                    .allSatisfy(export -> assertThat(export.isQualified()).isFalse())
                    .extracting(ModuleDescriptor.Exports::source).containsExactlyInAnyOrderElementsOf(exported);
        });
        assertThat(finder.find("dev.agentcore.core").orElseThrow().descriptor().packages())
                .as("core holds its internals, unexported").contains("dev.agentcore.core.internal");
        assertThat(finder.find("dev.agentcore.transport").orElseThrow().descriptor().packages())
                .as("transport holds the generated schema classes, unexported").contains("dev.agentcore.transport.proto.v1");
    }

    @Test
    void theModuleGraphResolvesFromTheJarsTheBuildUses() {
        Configuration graph = Configuration.empty().resolve(modulePath(), ModuleFinder.ofSystem(), EXPORTS.keySet());

        Set<String> resolved = graph.modules().stream().map(ResolvedModule::name).collect(Collectors.toSet());
        assertThat(resolved).containsAll(EXPORTS.keySet())
                .contains("reactor.core", "rsocket.core", "r2dbc.spi", "reactor.test");
        assertThat(graph.findModule("dev.agentcore.test").orElseThrow().reads())
                .as("the kit's users read core and reactor-test through it")
                .extracting(ResolvedModule::name).contains("dev.agentcore.core", "reactor.test");
    }
}
