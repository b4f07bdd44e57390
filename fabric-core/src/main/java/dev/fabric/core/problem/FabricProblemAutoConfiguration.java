package dev.fabric.core.problem;

import dev.fabric.core.spring.FabricSecurityProperties;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.validation.ConstraintViolationException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.jackson.autoconfigure.JsonMapperBuilderCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.type.LogicalType;

import java.util.List;

/**
 * Installs {@link FabricProblemAdvice} in every fabric web service, in place of Spring Boot's own
 * {@code ProblemDetailsExceptionHandler} (so {@code spring.mvc.problemdetails.enabled} has no
 * effect in a fabric service). The service's {@link ProblemTranslator} beans are handed to it.
 */
@AutoConfiguration(beforeName = "org.springframework.boot.webmvc.autoconfigure.WebMvcAutoConfiguration")
@ConditionalOnClass({ResponseEntityExceptionHandler.class, MeterRegistry.class, ConstraintViolationException.class})
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
public class FabricProblemAutoConfiguration {

    @Bean
    @ConditionalOnMissingBean(ResponseEntityExceptionHandler.class)
    FabricProblemAdvice fabricProblemAdvice(ObjectProvider<ProblemTranslator> translators, ObjectProvider<MeterRegistry> meters) {
        return new FabricProblemAdvice(translators.orderedStream().toList(), meters.getIfAvailable());
    }

    /**
     * A request's JSON is read as written: a value of the wrong kind is {@code 400 invalid-request}
     * (docs/problems.md), never converted, so {@code {"body": 5}} is not taken for {@code "5"} nor
     * {@code {"incarnation": "1"}} for 1. Jackson converts such scalars by default, and text from a
     * number or a flag even without its scalar coercion, so both are switched off.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(JsonMapperBuilderCustomizer.class)
    static class StrictJson {

        @Bean
        JsonMapperBuilderCustomizer fabricStrictScalars() {
            return builder -> builder.disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                    .withCoercionConfig(LogicalType.Textual, text -> text.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                            .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                            .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail));
        }
    }

    /** The error answers in the service's OpenAPI document, where the service serves one (springdoc). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springdoc.core.customizers.OperationCustomizer")
    static class Documentation {

        @Bean
        ProblemAnswersDocumentation fabricProblemAnswersDocumentation(ObjectProvider<FabricSecurityProperties> security) {
            FabricSecurityProperties properties = security.getIfAvailable();
            boolean signed = properties != null && properties.signature().enabled();
            return new ProblemAnswersDocumentation(signed ? properties.signature().openPaths() : List.of(), signed);
        }
    }
}
