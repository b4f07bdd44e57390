package dev.fabric.cli;

import dev.fabric.cli.context.FabricHome;
import dev.fabric.core.keys.FabricKeys;
import dev.fabric.core.registry.InstanceState;
import dev.fabric.core.registry.RegistrationRequest;
import dev.fabric.core.registry.RegistryClient;
import dev.fabric.registry.RegistryApplication;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The registry going away while the console's page is open: the page says so, keeps what it showed,
 * and follows the registry again once it is back on the same address, without a reload (the real
 * registry in this JVM, stopped and started again over the same H2 files).
 */
@RequiresBrowser
class ConsoleRegistryOutageIT {

    private static final Duration PATIENCE = Duration.ofSeconds(60);

    private ConfigurableApplicationContext registry;
    private RunningConsole console;
    private Chromium chromium;

    @AfterEach
    void stopAll() throws Exception {
        Awaitility.reset();
        if (chromium != null) {
            chromium.close();
        }
        if (console != null) {
            console.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    void theRegistryGoingAwayIsShownAndThePageRecoversWhenItReturns(@TempDir Path dir) throws Exception {
        Awaitility.ignoreExceptionsByDefault();
        FabricKeys keys = FabricKeys.generate();
        keys.writeTo(dir.resolve("keys"));
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        registry = startRegistry(dir, port);
        String url = "http://127.0.0.1:" + port;
        RegistryClient client = new RegistryClient(URI.create(url), keys, Duration.ofSeconds(10));
        client.register(new RegistrationRequest("web-1", "web", "web", InstanceState.RUNNING, null, null, null, Map.of(), Map.of()));

        console = new RunningConsole(new Cli(Map.of(FabricHome.HOME_ENV, dir.resolve("home").toString(), FabricHome.REGISTRY_ENV, url,
                FabricHome.KEYS_ENV, dir.resolve("keys").toString()), dir, Clock.systemUTC()));
        chromium = new Chromium();
        chromium.driver.get(console.loginUrl());
        await().atMost(PATIENCE).until(() -> find("#tree li[data-id='web-1']"), e -> e != null);
        assertThat(find("#registry-status").getDomAttribute("data-up")).isEqualTo("true");
        chromium.driver.executeScript("window.notReloaded = true;");
        Object bannerUp = box("#registry-status");
        Object treeUp = box("#tree");

        registry.close();
        registry = null;
        WebElement banner = await().atMost(PATIENCE).until(() -> find("#registry-status"), e -> "false".equals(e.getDomAttribute("data-up")));
        assertThat(banner.getText()).contains("Registry unreachable: cannot reach the registry at " + url, "Retrying");
        assertThat(find("#tree li[data-id='web-1']")).as("what it showed stays").isNotNull();
        assertThat(box("#registry-status")).as("the banner keeps its place and size").isEqualTo(bannerUp);
        assertThat(box("#tree")).as("so does the tree").isEqualTo(treeUp);
        chromium.screenshot("registry-away");

        registry = startRegistry(dir, port);
        await().atMost(PATIENCE).until(() -> "true".equals(find("#registry-status").getDomAttribute("data-up")));
        client.register(new RegistrationRequest("web-2", "web", "web", InstanceState.RUNNING, null, null, null, Map.of(), Map.of()));
        await().atMost(PATIENCE).until(() -> find("#tree li[data-id='web-2'][data-state='RUNNING']"), e -> e != null);
        assertThat(chromium.driver.executeScript("return window.notReloaded === true;")).isEqualTo(true);
    }

    private static ConfigurableApplicationContext startRegistry(Path dir, int port) {
        return new SpringApplicationBuilder(RegistryApplication.class).run(
                "--server.port=" + port,
                "--server.address=127.0.0.1",
                "--fabric.registry.data-dir=" + dir.resolve("registry"),
                "--fabric.security.keys-path=" + dir.resolve("keys"));
    }

    private Object box(String css) {
        return chromium.driver.executeScript("const r = document.querySelector(arguments[0]).getBoundingClientRect();"
                + " return [r.left, r.top, r.width, r.height].map(Math.round).join(',');", css);
    }

    private WebElement find(String css) {
        List<WebElement> found = chromium.driver.findElements(By.cssSelector(css));
        return found.isEmpty() ? null : found.getFirst();
    }
}
