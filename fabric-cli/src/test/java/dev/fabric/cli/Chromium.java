package dev.fabric.cli;

import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.logging.Level;
import java.util.stream.Stream;

/**
 * Debian's Chromium, headless, driven by Debian's chromedriver through Selenium. The driver's path
 * is given, so Selenium Manager never runs (it would try to download one); the flags and the empty
 * profile are those these machines need (docs: test-rig, "A browser"). The browser's network log is
 * kept, so a test can read every request the page made and every answer it got.
 */
final class Chromium implements AutoCloseable {

    /** Screenshots of the console's views land here (one is committed as docs/img/console-tree.png). */
    static final Path SCREENSHOTS = Path.of("target", "console-screenshots");

    private final Path profile;
    private final ChromeDriverService service;
    final ChromeDriver driver;

    Chromium() throws IOException {
        // Belt and braces: no Selenium Manager, whatever the classpath's defaults.
        System.setProperty("webdriver.chrome.driver", BrowserRig.CHROMEDRIVER.toString());
        profile = Files.createTempDirectory("console-chromium-");
        service = new ChromeDriverService.Builder().usingDriverExecutable(BrowserRig.CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(BrowserRig.CHROMIUM.toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic", "--user-data-dir=" + profile, "--window-size=1280,900");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.PERFORMANCE, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        driver = new ChromeDriver(service, options);
    }

    /** The DevTools network events since the last call (Network.requestWillBeSent, responseReceived, eventSourceMessageReceived...). */
    List<String> networkLog() {
        return driver.manage().logs().get(LogType.PERFORMANCE).getAll().stream().map(LogEntry::getMessage)
                .filter(message -> message.contains("\"Network.")).toList();
    }

    /** Saves what the browser shows as target/console-screenshots/NAME.png. */
    Path screenshot(String name) throws IOException {
        Files.createDirectories(SCREENSHOTS);
        Path file = SCREENSHOTS.resolve(name + ".png");
        Files.write(file, ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
        return file;
    }

    @Override
    public void close() throws IOException {
        try {
            driver.quit();
        } finally {
            service.stop();
            try (Stream<Path> files = Files.walk(profile)) {
                files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
            }
        }
    }
}
